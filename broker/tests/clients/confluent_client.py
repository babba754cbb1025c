"""Drives the broker with Python's confluent-kafka: create a topic, produce,
consume, and consume in a group with commits; then produce with an
idempotent producer, and in transactions for a read-committed consumer.
Exits non-zero on failure.

Usage: python3 confluent_client.py <bootstrap>"""

import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TOPIC = "python-topic"
IDEMPOTENT_TOPIC = "python-idempotent"
TRANSACTIONAL_TOPIC = "python-transactional"
COUNT = 300
PARTITIONS = 3


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def consume(consumer, count, timeout=30.0):
    values = []
    deadline = time.monotonic() + timeout
    while len(values) < count and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error():
            fail(f"consume error {message.error()}")
        values.append(message.value().decode())
    return values


def main():
    bootstrap = sys.argv[1]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)])
    futures[TOPIC].result(timeout=10)
    metadata = admin.list_topics(timeout=10)
    if len(metadata.topics[TOPIC].partitions) != PARTITIONS:
        fail("topic has the wrong partition count")

    producer = Producer({"bootstrap.servers": bootstrap, "compression.type": "lz4", "acks": "all"})
    errors = []
    for i in range(COUNT):
        producer.produce(TOPIC, key=str(i), value=f"py-{i}", on_delivery=lambda err, _msg: err and errors.append(err))
    if producer.flush(30) != 0 or errors:
        fail(f"produce failed: {errors}")
    expected = sorted(f"py-{i}" for i in range(COUNT))

    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": "py-reader", "enable.auto.commit": False})
    reader.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
    if sorted(consume(reader, COUNT)) != expected:
        fail("plain consume did not return every record")
    reader.close()

    group = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "py-group",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    group.subscribe([TOPIC])
    if sorted(consume(group, COUNT)) != expected:
        fail("group consume did not return every record")
    group.commit(asynchronous=False)
    committed = group.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=10)
    if sum(tp.offset for tp in committed) != COUNT:
        fail(f"committed offsets {committed} do not cover {COUNT} records")
    group.close()

    # An idempotent producer: InitProducerId, then sequenced batches.
    idempotent = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for i in range(COUNT):
        idempotent.produce(IDEMPOTENT_TOPIC, value=f"idem-{i}", on_delivery=lambda err, _msg: err and errors.append(err))
    if idempotent.flush(30) != 0 or errors:
        fail(f"idempotent produce failed: {errors}")
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": "py-reader", "enable.auto.commit": False})
    reader.assign([TopicPartition(IDEMPOTENT_TOPIC, 0, 0)])
    if consume(reader, COUNT) != [f"idem-{i}" for i in range(COUNT)]:
        fail("the idempotent producer's records are not in the log once each, in order")
    reader.close()

    # A transactional producer: read-committed consumers see what it
    # commits, never what it aborts.
    transactional = Producer({"bootstrap.servers": bootstrap, "transactional.id": "py-tx"})
    transactional.init_transactions(30)
    transactional.begin_transaction()
    for i in range(10):
        transactional.produce(TRANSACTIONAL_TOPIC, value=f"committed-{i}")
    transactional.commit_transaction(30)
    transactional.begin_transaction()
    for i in range(10):
        transactional.produce(TRANSACTIONAL_TOPIC, value=f"aborted-{i}")
    transactional.abort_transaction(30)
    committed = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "py-reader",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    committed.assign([TopicPartition(TRANSACTIONAL_TOPIC, 0, 0)])
    read = consume(committed, 20, timeout=5.0)
    if read != [f"committed-{i}" for i in range(10)]:
        fail(f"read-committed consumer read {read}")
    committed.close()
    print("OK")


if __name__ == "__main__":
    main()
