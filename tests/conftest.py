"""Settings for the whole test session."""

import os
import tempfile

# golf caches what it derives from a script's bytes in .golf_cache/ under the current folder: the tests
# keep theirs in a folder of their own instead of the checkout (tests/test_cache.py sets its own).
os.environ.setdefault("GOLF_CACHE_DIR", os.path.join(tempfile.mkdtemp(prefix="golf-test-cache-"), ".golf_cache"))
