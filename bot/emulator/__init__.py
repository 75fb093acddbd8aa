"""A local Slack Web API emulator and a signed-request driver, for tests and the demo."""

from bot.emulator.driver import BotReply, Signing, SlackDriver, slack_signature
from bot.emulator.faults import Fault, FaultPlan
from bot.emulator.limits import Limits
from bot.emulator.server import RunningEmulator, create_emulator_app, start_emulator
from bot.emulator.state import EmulatorState

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
