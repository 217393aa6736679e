"""The AArch64 processing element: state, decode, execution, system registers, MMU."""
