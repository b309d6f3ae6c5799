"""JSON Schemas shipped with golf (installed as the package golf.schemas)."""
