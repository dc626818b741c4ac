"""The desk's durable streams on a Kafka-API cluster: topic definitions and their setup
(`topics.py`). The local broker is `deploy/kafka`; any other is `QUANTDESK_KAFKA_BOOTSTRAP`."""
