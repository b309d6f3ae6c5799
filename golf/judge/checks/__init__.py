"""The checks of `golf verify`: one small registered rule per kind of finding (golf.judge.findings).

Importing this package registers every rule. Checks never print, never raise on bad
input, and never run anything from the record folder.

Code ranges: G0xx golf itself, G1xx folder contents, G2xx scores and claims, G3xx sizes,
G4xx source, G5xx runs and seeds, G6xx time budgets, G7xx significance, G8xx reruns,
G9xx pull requests (golf ci).
"""

from golf.judge.checks import (changeset, files, provenance, reproduce, reruns, runs, scores,  # noqa: F401
                               significance, sizes, source, timing)
