"""A local Slack Web API emulator and a signed-request driver, for tests and the demo."""

from emulator.driver import BotReply, Signing, SlackDriver, slack_signature
from emulator.faults import Fault, FaultPlan
from emulator.limits import Limits
from emulator.server import RunningEmulator, create_emulator_app, start_emulator
from emulator.state import EmulatorState

__all__ = [
    "BotReply",
    "EmulatorState",
    "Fault",
    "FaultPlan",
    "Limits",
    "RunningEmulator",
    "Signing",
    "SlackDriver",
    "create_emulator_app",
    "slack_signature",
    "start_emulator",
]
