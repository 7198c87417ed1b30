"""`python -m dermgan` is the `dermgan` command; torchrun launches it as `-m dermgan`."""

from dermgan.cli import main

main()
