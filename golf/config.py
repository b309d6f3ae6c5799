"""The project configuration now lives in golf.read.config (reading is read/'s job); kept for old imports."""

from golf.read.config import Config, find_config, load_config, parse_config  # noqa: F401

__all__ = ["Config", "find_config", "load_config", "parse_config"]
