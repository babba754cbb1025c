//! Stream-time and wall-clock punctuation, as Kafka Streams fires it.

use std::time::Duration;

use streams_core::prelude::*;

/// Schedules one punctuator and forwards `("tick", fire time)` each time it
/// fires; cancels itself when it sees the value "cancel".
struct Ticker {
    kind: PunctuationType,
    interval: Duration,
    id: Option<PunctuatorId>,
}

impl Processor<String, String, String, i64> for Ticker {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), StreamsError> {
        self.id = Some(ctx.schedule(self.interval, self.kind)?);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        if record.value == "cancel" {
            if let Some(id) = self.id.take() {
                ctx.cancel(id);
            }
        }
        Ok(())
    }

    fn punctuate(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        punctuator: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        assert_eq!(Some(punctuator), self.id);
        assert!(
            ctx.record_metadata().is_none(),
            "no input record during punctuation"
        );
        ctx.forward(Record::new("tick".to_string(), timestamp, timestamp))
    }
}

fn driver(kind: PunctuationType, interval: Duration) -> TopologyTestDriver {
    driver_of(move || Ticker {
        kind,
        interval,
        id: None,
    })
}

/// A driver of `in -> processor -> ticks`.
fn driver_of<P>(processor: impl Fn() -> P + Send + Sync + 'static) -> TopologyTestDriver
where
    P: Processor<String, String, String, i64> + 'static,
{
    let topology = TopologyBuilder::new()
        .add_source("in", &["in"], SourceOptions::new(StringSerde, StringSerde))
        .add_processor("processor", processor, &["in"])
        .add_sink(
            "out",
            "ticks",
            SinkOptions::new(StringSerde, I64Serde),
            &["processor"],
        )
        .build()
        .expect("valid topology");
    TopologyTestDriver::new(&topology).expect("driver starts")
}

fn ticks(driver: &TopologyTestDriver) -> Vec<i64> {
    driver
        .create_output_topic("ticks", StringSerde, I64Serde)
        .read_values_to_list()
        .expect("ticks decode")
}

fn pipe_seconds(driver: &TopologyTestDriver, seconds: impl IntoIterator<Item = i64>) {
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    for second in seconds {
        input
            .pipe_input_at("k".into(), "v".into(), second * 1000)
            .expect("processing succeeds");
    }
}

#[test]
fn stream_time_punctuation_is_aligned_to_zero() {
    let driver = driver(PunctuationType::StreamTime, Duration::from_secs(10));
    pipe_seconds(&driver, 0..60);
    assert_eq!(
        ticks(&driver),
        vec![0, 10_000, 20_000, 30_000, 40_000, 50_000]
    );
}

#[test]
fn stream_time_punctuation_starting_late_fires_at_the_first_record() {
    let driver = driver(PunctuationType::StreamTime, Duration::from_secs(10));
    pipe_seconds(&driver, 1..=60);
    assert_eq!(
        ticks(&driver),
        vec![1_000, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]
    );
}

#[test]
fn stream_time_never_moves_back_and_needs_input() {
    let driver = driver(PunctuationType::StreamTime, Duration::from_secs(10));
    assert!(ticks(&driver).is_empty(), "no punctuation without data");
    // Out-of-order records do not lower stream time or refire punctuation.
    pipe_seconds(&driver, [25, 3, 12, 29, 31]);
    assert_eq!(ticks(&driver), vec![25_000, 31_000]);
    driver
        .advance_wall_clock_time(Duration::from_secs(3600))
        .expect("advance");
    assert!(
        ticks(&driver).is_empty(),
        "wall-clock time does not drive stream time"
    );
}

#[test]
fn wall_clock_punctuation_fires_from_the_clock() {
    let driver = driver(PunctuationType::WallClockTime, Duration::from_secs(1));
    pipe_seconds(&driver, [100, 200]);
    assert!(
        ticks(&driver).is_empty(),
        "records do not drive wall-clock punctuation"
    );
    driver
        .advance_wall_clock_time(Duration::from_millis(999))
        .expect("advance");
    assert!(ticks(&driver).is_empty());
    driver
        .advance_wall_clock_time(Duration::from_millis(1))
        .expect("advance");
    assert_eq!(ticks(&driver), vec![1_000]);
    // A jump fires once, then the schedule realigns to the interval.
    driver
        .advance_wall_clock_time(Duration::from_millis(3_500))
        .expect("advance");
    assert_eq!(ticks(&driver), vec![4_500]);
    driver
        .advance_wall_clock_time(Duration::from_millis(500))
        .expect("advance");
    assert_eq!(ticks(&driver), vec![5_000]);
}

#[test]
fn cancelled_punctuation_stops() {
    let driver = driver(PunctuationType::StreamTime, Duration::from_secs(10));
    pipe_seconds(&driver, [0, 10]);
    driver
        .create_input_topic("in", StringSerde, StringSerde)
        .pipe_input_at("k".into(), "cancel".into(), 15_000)
        .expect("process");
    pipe_seconds(&driver, [20, 30]);
    assert_eq!(ticks(&driver), vec![0, 10_000]);
}

/// On its first punctuation, hands over to a second punctuator: cancels
/// itself and schedules the next one. Forwards `("first" | "second", time)`
/// as each fires; fails on the value "fail" at punctuation time.
struct HandOver {
    first: Option<PunctuatorId>,
    fail: bool,
}

impl Processor<String, String, String, i64> for HandOver {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), StreamsError> {
        self.first = Some(ctx.schedule(Duration::from_millis(100), PunctuationType::StreamTime)?);
        Ok(())
    }

    fn process(
        &mut self,
        _ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        self.fail = record.value == "fail";
        Ok(())
    }

    fn punctuate(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        punctuator: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        if self.fail {
            return Err(StreamsError::processor("handover", "punctuation failed"));
        }
        let name = if Some(punctuator) == self.first {
            ctx.cancel(punctuator);
            self.first = None;
            ctx.schedule(Duration::from_millis(100), PunctuationType::StreamTime)?;
            "first"
        } else {
            "second"
        };
        ctx.forward(Record::new(name.to_string(), timestamp, timestamp))
    }
}

fn hand_over_driver() -> TopologyTestDriver {
    driver_of(|| HandOver {
        first: None,
        fail: false,
    })
}

/// As Kafka's `PunctuationQueue.maybePunctuate`: a punctuator scheduled
/// by another, already due, fires in the same round.
#[test]
fn a_punctuator_scheduled_during_punctuation_fires_in_the_same_round() {
    let driver = hand_over_driver();
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    input
        .pipe_input_at("k".into(), "v".into(), 42)
        .expect("pipe");
    let fired = driver
        .create_output_topic("ticks", StringSerde, I64Serde)
        .read_key_values_to_list()
        .expect("ticks decode");
    assert_eq!(
        fired,
        [("first".to_string(), 42), ("second".to_string(), 42)]
    );
}

/// As Kafka, which takes a schedule out while it runs: a punctuator that
/// fails is not called again.
#[test]
fn a_failed_punctuator_is_not_called_again() {
    let driver = hand_over_driver();
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    assert!(input.pipe_input_at("k".into(), "fail".into(), 0).is_err());
    input
        .pipe_input_at("k".into(), "v".into(), 500)
        .expect("pipe");
    let fired = driver
        .create_output_topic("ticks", StringSerde, I64Serde)
        .read_key_values_to_list()
        .expect("ticks decode");
    assert_eq!(fired, []);
}

/// Schedules three stream-time punctuators of one interval, A, B and C,
/// and forwards the name of each as it fires.
struct Trio {
    names: Vec<(PunctuatorId, &'static str)>,
}

impl Processor<String, String, String, i64> for Trio {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), StreamsError> {
        for name in ["A", "B", "C"] {
            let id = ctx.schedule(Duration::from_millis(5), PunctuationType::StreamTime)?;
            self.names.push((id, name));
        }
        Ok(())
    }

    fn process(
        &mut self,
        _: &mut ProcessorContext<'_, String, i64>,
        _: Record<String, String>,
    ) -> Result<(), StreamsError> {
        Ok(())
    }

    fn punctuate(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        punctuator: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        let (_, name) = self
            .names
            .iter()
            .find(|(id, _)| *id == punctuator)
            .expect("one of ours");
        ctx.forward(Record::new((*name).to_owned(), timestamp, timestamp))
    }
}

/// Punctuators due at the same time fire in the order Kafka's
/// `PunctuationQueue` (a Java `PriorityQueue` on the time alone) gives
/// them: each one fired goes back into the heap behind the others, so the
/// order turns from round to round.
#[test]
fn punctuators_due_together_fire_in_kafkas_order() {
    let driver = driver_of(|| Trio { names: Vec::new() });
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    for timestamp in [5, 10, 20] {
        input
            .pipe_input_at("k".into(), "v".into(), timestamp)
            .expect("processing succeeds");
    }
    let fired: Vec<(String, i64)> = driver
        .create_output_topic("ticks", StringSerde, I64Serde)
        .read_key_values_to_list()
        .expect("ticks decode");
    let expected: Vec<(String, i64)> = [
        ("A", 5),
        ("C", 5),
        ("B", 5),
        ("C", 10),
        ("B", 10),
        ("A", 10),
        ("B", 20),
        ("A", 20),
        ("C", 20),
    ]
    .into_iter()
    .map(|(name, at)| (name.to_owned(), at))
    .collect();
    assert_eq!(fired, expected);
}
