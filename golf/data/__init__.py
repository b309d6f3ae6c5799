"""The data layer: shard format, byte accounting, dataset build and fetch, the bundled smoke dataset."""
