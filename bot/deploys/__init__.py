"""Deploy events: sent by CI to `POST /events/deploy`, kept in the shared store, read by the
triage's "What changed" step."""
