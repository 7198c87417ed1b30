"""The fault-injection suite: bad inputs, full and read-only disks, corrupt files (a package, so its
conftest does not shadow the root one)."""
