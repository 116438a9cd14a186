"""mmconform.proxy: a reverse proxy that puts named faults (and harmless variations) between
the suites and any server, so that a vendor can prove on their own server that the suites
catch what they claim to.

>>> from mmconform.proxy import start_proxy
>>> with start_proxy(Path("target.toml"), ["PING_STATUS_DROPPED"]) as proxy:  # doctest: +SKIP
...     proxy.url, proxy.target_file

See ``mmconform/proxy/README.md`` for the catalogue and the command line.
"""

from __future__ import annotations

from mmconform._wire import TargetFileError
from mmconform.proxy._catalogue import MUTATIONS, check_catalogue, parse_mutation
from mmconform.proxy._mutation import Mutation
from mmconform.proxy._server import RunningProxy, start_proxy

__all__ = [
    "MUTATIONS",
    "Mutation",
    "RunningProxy",
    "TargetFileError",
    "check_catalogue",
    "parse_mutation",
    "start_proxy",
]
