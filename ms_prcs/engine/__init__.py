"""The milestone processing engine (PeopleSoft's CA_MS_PRCS): one run control in, one frozen result out."""

from ms_prcs.engine.control import Outcome, RunControl, RunMessage, RunResult, Severity
from ms_prcs.engine.process import process

__all__ = ["Outcome", "RunControl", "RunMessage", "RunResult", "Severity", "process"]
