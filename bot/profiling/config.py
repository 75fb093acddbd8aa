"""A service's `agent:` entry in the catalog: how to reach the agent inside its processes.

services:
  checkout:
    selector: {job: checkout}
    agent:
      port: 9230                      # host from the worst instance's `instance` label
      token_env: CHECKOUT_AGENT_TOKEN # the variable holding the token, never the token
  # or, when the agent is reached some other way:
    agent:
      url: "http://{host}:9230"       # {host}: the instance label's host part
      token_env: CHECKOUT_AGENT_TOKEN
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from bot.sources.postgres.config import EnvName

HOST_PLACEHOLDER = "{host}"
MAX_CPU_SECONDS = 30.0


def _url_template(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(
            f"must start with http:// or https://, like http://{{host}}:9230, got {value!r}"
        )
    if value.count(HOST_PLACEHOLDER) != 1:
        raise ValueError(
            f"must hold {HOST_PLACEHOLDER} once, like http://{{host}}:9230, got {value!r}"
        )
    rest = value.replace(HOST_PLACEHOLDER, "")
    if "{" in rest or "}" in rest:
        raise ValueError(f"{HOST_PLACEHOLDER} is the only placeholder allowed, got {value!r}")
    return value.rstrip("/")


UrlTemplate = Annotated[str, AfterValidator(_url_template)]


class AgentConfig(BaseModel):
    """Optional profiles from the service's processes (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token_env: EnvName
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    url: UrlTemplate | None = None
    cpu_seconds: Annotated[float, Field(gt=0, le=MAX_CPU_SECONDS)] = 5.0
    heap_seconds: Annotated[float, Field(gt=0, le=2 * MAX_CPU_SECONDS)] = 10.0

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        if (self.port is None) == (self.url is None):
            raise ValueError(
                "give either port (the agent on the instance's host, e.g. port: 9230) "
                'or url (a template such as url: "http://{host}:9230"), not both or neither'
            )
        return self

    def base_url(self, host: str) -> str:
        """The agent's address for an instance `host` (already checked by `instances`)."""
        shown = f"[{host}]" if ":" in host else host
        if self.url is not None:
            return self.url.replace(HOST_PLACEHOLDER, shown)
        return f"http://{shown}:{self.port}"
