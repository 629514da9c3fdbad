"""ms-prcs: the milestone processing engine (CA_MS_PRCS), its feed and its command line."""

__version__ = "0.1.0"
