"""golf: toolkit and verifier for the Parameter Golf challenge."""

__version__ = "0.1.0"
