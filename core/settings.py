"""The desk's one settings object: environment (`QUANTDESK_*`), `.env`, then defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["debug", "info", "warning", "error"]


class Settings(BaseSettings):
    """Typed desk configuration; every field can be set as `QUANTDESK_<FIELD>`."""

    model_config = SettingsConfigDict(
        env_prefix="QUANTDESK_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    data_dir: Path = Field(
        default=Path(".quantdesk"),
        description="Where embedded engines keep their files (chdb store, checkpoints, reports).",
    )
    store_dsn: str | None = Field(
        default=None,
        description="ClickHouse DSN: `chdb:///abs/path` (embedded) or `http(s)://user:pw@host:port/db`."
        " Unset: an embedded chdb store under data_dir.",
    )
    log_level: LogLevel = "info"
    log_json: bool = Field(default=True, description="JSON lines (for Loki) instead of plain text.")
    service_name: str = Field(default="quantdesk", min_length=1)
    environment: str = Field(default="dev", min_length=1)
    limits_path: Path | None = Field(
        default=None, description="Gate limits (TOML/YAML). Unset: the gateway's packaged defaults."
    )
    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp). "
        "Unset: the rule router runs the desk.",
    )
    llm_model: str = Field(default="gpt-4o-mini", min_length=1)
    llm_api_key: SecretStr | None = Field(default=None, description="Never logged or shown.")
    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_token_budget: int = Field(default=50_000, ge=1, description="Tokens per run; then abort.")
    llm_request_token_budget: int = Field(
        default=4_000,
        ge=1,
        description="Tokens the router may spend on one request (attempts included); then the "
        "rules decide and the answer says so.",
    )
    llm_cache_path: Path | None = Field(
        default=None,
        description="SQLite file of LLM answers keyed by model, messages, tools and parameters "
        "(core/llm/cache.py): a call asked before is answered from it, not the endpoint, "
        "which makes a replay's LLM decisions reproducible. Unset: no cache.",
    )
    helicone_api_key: SecretStr | None = Field(
        default=None, description="Route LLM calls through Helicone's gateway when set."
    )
    helicone_base_url: str = Field(default="https://gateway.helicone.ai/v1")
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI. Unset: a local SQLite store under data_dir.",
    )
    fireblocks_api_key: SecretStr | None = Field(default=None, description="Never logged.")
    fireblocks_secret_key_path: Path | None = Field(
        default=None, description="The API user's RSA private key (PEM), kept outside the repo."
    )
    fireblocks_vault_id: str = Field(default="0", description="The desk's vault account id.")
    fireblocks_base_url: str = Field(
        default="https://api.fireblocks.io/v1", description="Fireblocks' API (or a proxy)."
    )
    custody_whitelist: str = Field(
        default="", description="Where transfers may go: ASSET:address entries, comma separated."
    )
    alpaca_api_key: SecretStr | None = Field(default=None, description="Never logged or shown.")
    alpaca_api_secret: SecretStr | None = Field(default=None, description="Never logged or shown.")
    alpaca_paper: bool = Field(default=True, description="Alpaca's paper endpoint (False: live).")
    alpaca_api_url: str | None = Field(
        default=None, description="Alpaca's trading REST base instead of its own (a proxy)."
    )
    alpaca_stream_url: str | None = Field(
        default=None, description="Alpaca's trade-update websocket instead of its own."
    )
    venue_exchange: str = Field(default="bitstamp", description="ccxt exchange id for live orders.")
    venue_api_key: SecretStr | None = Field(default=None, description="Never logged or shown.")
    venue_api_secret: SecretStr | None = Field(default=None, description="Never logged or shown.")
    venue_api_url: str | None = Field(
        default=None, description="Override the exchange's REST URL (testnet, proxy, loopback)."
    )
    venue_sandbox: bool = Field(
        default=True, description="Use the exchange's testnet where ccxt knows one."
    )

    neo4j_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices("neo4j_uri", "NEO4J_URI", "QUANTDESK_NEO4J_URI"),
        description="Bolt URI of a Neo4j to use (`NEO4J_URI`). Unset: the local server that "
        "`quantdesk services up` starts under data_dir.",
    )
    neo4j_user: str = Field(
        default="neo4j", validation_alias=AliasChoices("neo4j_user", "NEO4J_USER")
    )
    neo4j_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("neo4j_password", "NEO4J_PASSWORD"),
        description="Unset with the local server: the password it generated on first start.",
    )
    neo4j_bolt_port: int = Field(default=7687, ge=1, le=65535)
    kafka_bootstrap: str | None = Field(
        default=None,
        description="`bootstrap.servers` of a Kafka-API cluster (Kafka, Redpanda, a managed one) "
        "for the desk's stream topics. Unset: the local broker that `quantdesk services up` "
        "starts under data_dir.",
    )
    kafka_port: int = Field(
        default=19092,
        ge=1,
        le=65534,
        description="The local broker's client port on 127.0.0.1; its controller listens on the "
        "next one. Off Kafka's usual 9092/9093 (9093 is also Alertmanager's), so a broker "
        "already on the machine is not taken for ours.",
    )
    slurm_conf: Path | None = Field(
        default=None,
        description="slurm.conf of an existing SLURM cluster for research sweeps. Unset: the "
        "local one-node cluster `quantdesk services up slurm` starts under data_dir, else the "
        "cluster the environment's SLURM_CONF names.",
    )
    slurm_port: int = Field(
        default=16817, ge=1, le=65534,
        description="The local cluster's slurmctld port on 127.0.0.1; slurmd takes the next.",
    )  # fmt: skip
    slurm_partition: str | None = Field(default=None, description="Partition (None: default).")
    slurm_account: str | None = Field(default=None, description="Account to charge, if any.")
    slurm_time_min: int = Field(default=60, ge=1, description="Time limit per task, minutes.")
    slurm_mem_mb: int = Field(default=1024, ge=64, description="Memory per task, MiB.")
    slurm_points_per_task: int = Field(
        default=1000,
        ge=1,
        description="Strategies one array task evaluates: enough that a task's work outweighs "
        "its ~2 s of scheduling and Python start (benchmarks/RESULTS.md).",
    )
    slurm_max_retries: int = Field(
        default=2, ge=0, description="Tries after the first for a task that fails or is lost."
    )
    research_cluster_points: int = Field(
        default=20_000,
        ge=1,
        description="A research sweep of at least this many points goes to the SLURM cluster "
        "when one is configured (QUANTDESK_SLURM_CONF, or `services up slurm` has run); "
        "smaller ones run on this machine, where a cluster's ~2 s a task costs more than it "
        "saves (benchmarks/RESULTS.md).",
    )
    slurm_shared_dir: Path | None = Field(
        default=None,
        description="A directory every node sees (NFS, or S3/JuiceFS mounted): data snapshots "
        "and the tasks' pickles. Unset: data_dir/shared (one node).",
    )
    qdrant_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("qdrant_url", "QDRANT_URL", "QUANTDESK_QDRANT_URL"),
        description="Qdrant server URL. Unset: qdrant-client local mode under data_dir.",
    )
    qdrant_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("qdrant_api_key", "QDRANT_API_KEY")
    )
    memory_enabled: bool = Field(
        default=True,
        description="The agents' memory (Qdrant and its embedder). Off: recall and remember "
        "say memory is unavailable and the agents carry on without it.",
    )

    bus_mode: Literal["peer", "client"] = Field(
        default="peer", description="Zenoh mode: peer (default) or client of a router."
    )
    bus_hub: str = Field(
        default="tcp/127.0.0.1:7447",
        description="The endpoint the store-owning service (execution) listens on; the other "
        "services connect to it.",
    )
    bus_connect: list[str] = Field(
        default_factory=list, description="More endpoints to connect to (a router, peers)."
    )
    heartbeat_interval_s: float = Field(default=0.2, gt=0, le=60)
    fast_path: bool = Field(
        default=True,
        description="Execution runs the gate's Rust fast path on the bus: the kill switch, "
        "risk's halts, the drawdown, daily-loss and strategy-loss breakers and the dead-man "
        "switch act in Rust threads, not in Python handlers.",
    )
    fast_path_priority: int = Field(
        default=10,
        ge=0,
        le=99,
        description="SCHED_FIFO priority of the fast path's Rust threads (its Zenoh session, "
        "publisher and dead-man timer), so a breach does not wait behind Python's threads for "
        "a CPU; 0 "
        "leaves them at normal priority. Needs CAP_SYS_NICE or RLIMIT_RTPRIO; where refused "
        "the fast path runs at normal priority and logs it.",
    )
    cpu_wake_latency_us: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="While execution's fast path runs, hold a PM QoS request that idle CPUs "
        "wake within this many microseconds (/dev/cpu_dma_latency; 0: they poll, never halt). "
        "Machine-wide and costs power; on a VM it removes the host's wake-up from the breach "
        "path. Unset: the OS decides. Needs root; refused, the desk runs on and logs it.",
    )
    deadman_reduce_after_s: float = Field(
        default=1.0, gt=0, description="Risk silent this long: the gate moves to REDUCING."
    )
    deadman_halt_after_s: float = Field(
        default=3.0, gt=0, description="Risk silent this long: the gate moves to HALTED."
    )
    risk_breach_fraction: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Gross exposure above this share of the limit is "
        "a breach: risk orders a reduce.",
    )
    risk_strategy_loss_limit: float = Field(
        default=25_000.0,
        gt=0,
        description="A strategy whose marked loss passes this (USD) is halted by risk.",
    )
    risk_max_dollar_volatility: float = Field(
        default=400_000.0,
        gt=0,
        description="Annualised dollar volatility of the book (each position's value times its "
        "instrument's realised volatility, summed) above which risk orders a reduce.",
    )
    risk_marks_poll_s: float = Field(
        default=5.0, gt=0, description="How often risk refreshes the daily closes it uses."
    )
    monitor_agents: list[str] = Field(
        default_factory=lambda: ["execution", "risk"],
        description="Agents the monitor expects; one never heard from is reported silent too.",
    )
    monitor_poll_s: float = Field(
        default=10.0,
        gt=0,
        description="How often the monitor asks the store's owner for the "
        "desk's health (data freshness, gateway state).",
    )
    monitor_feed_stall_s: float = Field(
        default=300.0,
        gt=0,
        description="A market-data feed heard on the bus (desk/md/...) and then silent for "
        "longer than this raises a stalled-feed alert.",
    )
    monitor_llm_cost_per_hour: float = Field(
        default=5.0,
        gt=0,
        description="LLM spend (USD, estimated) over the last hour above which the monitor "
        "alerts; the same line as the Prometheus rule QuantDeskLlmCostHigh.",
    )
    alert_webhook_url: str | None = Field(
        default=None, description="Alerts are POSTed here as JSON; unset: no webhook."
    )
    smtp_host: str | None = Field(default=None, description="Alerts by email; unset: no email.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    alert_email_from: str = "quantdesk@localhost"
    alert_email_to: list[str] = Field(default_factory=list)
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="Prometheus endpoint on 127.0.0.1; unset: off."
    )

    api_host: str = Field(default="127.0.0.1", description="`quantdesk serve` binds here.")
    api_port: int = Field(default=8700, ge=0, le=65535)
    api_keys: SecretStr | None = Field(
        default=None,
        description="API keys as `name:role:key` entries separated by commas; roles are viewer, "
        "trader, approver, admin. Unset: the API refuses every request.",
    )
    api_rate_per_minute: int = Field(default=120, ge=1, description="Requests per key per minute.")
    slack_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "slack_bot_token", "QUANTDESK_SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN"
        ),
        description="Slack bot token; unset with no signing secret: no Slack endpoint.",
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "slack_signing_secret", "QUANTDESK_SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET"
        ),
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="An `xapp-` token: Socket Mode instead of the HTTP endpoint."
    )
    slack_api_url: str = Field(default="https://slack.com/api/")
    slack_channel: str = Field(default="#desk-approvals", description="Approval requests go here.")
    slack_alert_channel: str = Field(default="#desk-alerts", description="Monitor alerts go here.")
    slack_approvers: list[str] = Field(
        default_factory=list, description="Slack user ids allowed to approve orders."
    )
    schedule_path: Path | None = Field(
        default=None, description="Scheduled runs (TOML); unset: the packaged default schedule."
    )

    @field_validator("neo4j_uri")
    @classmethod
    def _bolt_scheme_is_known(cls, value: str | None) -> str | None:
        schemes = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
        if value is not None and not value.startswith(schemes):
            raise ValueError(f"neo4j_uri must start with one of {', '.join(schemes)}")
        return value

    @field_validator("store_dsn")
    @classmethod
    def _dsn_scheme_is_known(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("chdb://", "http://", "https://")):
            raise ValueError("store_dsn must start with chdb://, http:// or https://")
        return value

    @property
    def resolved_tracking_uri(self) -> str:
        if self.mlflow_tracking_uri is not None:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

    @property
    def resolved_store_dsn(self) -> str:
        """The store DSN, defaulting to an embedded chdb database under `data_dir`."""
        if self.store_dsn is not None:
            return self.store_dsn
        return f"chdb://{(self.data_dir / 'clickhouse').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once."""
    return Settings()
