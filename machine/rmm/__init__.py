"""The Realm Management Monitor modelled in Python: answers RMI v2.0 as TF-RMM main does.

`RmmEngine(platform).handle(regs)` takes the registers of a host SMC and returns the
registers the RMM answers with; `platform` implements machine.rmm.platform.RmmPlatform.
"""

from .engine import RmmEngine
from .features import RmmConfig
from .inject import Injector
from .platform import PlatformFault, RmmPlatform

__all__ = ["Injector", "PlatformFault", "RmmConfig", "RmmEngine", "RmmPlatform"]
