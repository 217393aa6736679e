"""The A64 instruction set, one module per instruction class of the Arm ARM's decode tree
(C4.1). Importing this package registers every encoding in machine.cpu.decode.ENCODINGS."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
