"""fvp-rme: a Python model of the Arm FVP Base RevC platform with the Realm Management Extension."""

__version__ = "0.1.0"
