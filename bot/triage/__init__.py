"""The triage engine: walk a playbook of checks against one service and name a primary cause.

    from bot.triage.engine import TriageRequest, run_triage
    from bot.triage.playbook import load_playbooks
    from bot.triage.window import parse_window

    playbook = load_playbooks(Path("playbooks"))["nodejs"]
    report = await run_triage(
        TriageRequest(service="checkout", window=parse_window("10m", end=time.time()),
                      playbook=playbook, source=source),
        on_step=update_checklist_message,
    )

It knows nothing of Slack: the CLI, the Slack flows and the digest all call `run_triage`.
The package imports nothing itself, so loading only the playbook (`python -m bot
check-config`) does not pull in the engine, the Prometheus client or the APM backends.
"""
