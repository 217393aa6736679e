"""Loading images (firmware, test programs, benchmark workloads) into a machine's memory."""


class ImageError(Exception):
    """An image that cannot be loaded. The message is one line and starts with the file name."""
