"""The data layer: manifests, validation, importers, the phantom, crops, semantic maps and datasets."""
