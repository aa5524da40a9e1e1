"""The release, in one place: the command line, parameters files and the package metadata read it."""

__version__ = "1.0.0"
