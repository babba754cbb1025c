//! `Printed` and `KStream::print`: a debugging sink that writes each record
//! as a line `[label]: key, value`, as Kafka Streams' `print`.

use std::fmt::Display;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::kstream::KStream;
use crate::processors::{Print, PrintMapper, PrintTarget};

/// Where and how [`KStream::print`] prints, as Kafka Streams' `Printed`.
///
/// Each record becomes the line `[label]: <key>, <value>`; the label
/// defaults to the name of the stream printed (the node it comes out of).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use streams_core::prelude::*;
/// use streams_dsl::{Printed, StreamsBuilder};
///
/// let lines = Arc::new(Mutex::new(Vec::<u8>::new()));
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, i64>("scores")
///     .print(Printed::to_writer(lines.clone()).with_label("scores"));
/// let driver = TopologyTestDriver::new(&builder.build()?)?;
/// let input = driver.create_input_topic("scores", StringSerde, I64Serde);
/// input.pipe_input("ann".into(), 3)?;
/// assert_eq!(String::from_utf8_lossy(&lines.lock().unwrap()), "[scores]: ann, 3\n");
/// # Ok::<(), StreamsError>(())
/// ```
pub struct Printed<K, V> {
    target: PrintTarget,
    mapper: PrintMapper<K, V>,
    label: Option<String>,
    name: Option<String>,
}

impl<K: Display, V: Display> Printed<K, V> {
    /// Prints to standard output.
    pub fn to_sys_out() -> Self {
        Self::to_target(PrintTarget::Stdout)
    }

    /// Prints to `writer`, shared by every task (for tests: a
    /// `Arc<Mutex<Vec<u8>>>`).
    pub fn to_writer(writer: Arc<Mutex<impl Write + Send + 'static>>) -> Self {
        Self::to_target(PrintTarget::Writer(writer))
    }

    /// Prints to the file at `path`, created (or truncated) now.
    pub fn to_file(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = std::fs::File::create(path)?;
        Ok(Self::to_target(PrintTarget::Writer(Arc::new(Mutex::new(
            file,
        )))))
    }

    fn to_target(target: PrintTarget) -> Self {
        Self::mapped(
            target,
            Arc::new(|key: &K, value: &V| format!("{key}, {value}")),
        )
    }
}

impl<K, V> Printed<K, V> {
    /// Prints `mapper(key, value)` to standard output, for keys or values
    /// that are not `Display`.
    pub fn to_sys_out_mapped(mapper: impl Fn(&K, &V) -> String + Send + Sync + 'static) -> Self {
        Self::mapped(PrintTarget::Stdout, Arc::new(mapper))
    }

    /// Prints `mapper(key, value)` to `writer`, for keys or values that
    /// are not `Display`.
    pub fn to_writer_mapped(
        writer: Arc<Mutex<impl Write + Send + 'static>>,
        mapper: impl Fn(&K, &V) -> String + Send + Sync + 'static,
    ) -> Self {
        Self::mapped(PrintTarget::Writer(writer), Arc::new(mapper))
    }

    fn mapped(target: PrintTarget, mapper: PrintMapper<K, V>) -> Self {
        Self {
            target,
            mapper,
            label: None,
            name: None,
        }
    }

    /// Prints `[label]: ...` instead of the stream's name.
    pub fn with_label(mut self, label: &str) -> Self {
        self.label = Some(label.to_owned());
        self
    }

    /// Prints `mapper(key, value)` after the label instead of
    /// `key, value`.
    pub fn with_key_value_mapper(
        mut self,
        mapper: impl Fn(&K, &V) -> String + Send + Sync + 'static,
    ) -> Self {
        self.mapper = Arc::new(mapper);
        self
    }

    /// Names the printing processor (else `KSTREAM-PRINTER-<index>`).
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Prints every record as `printed` says; the end of this branch.
    pub fn print(&self, printed: Printed<K, V>) {
        let name = self
            .builder
            .name_or(printed.name.as_deref(), "KSTREAM-PRINTER-");
        // Kafka labels with the name of the stream printed, not the printer.
        let label = printed.label.unwrap_or_else(|| self.name.clone());
        let (mapper, target) = (printed.mapper, printed.target);
        self.builder.with(|topology| {
            topology.add_processor(
                &name,
                move || Print {
                    label: label.clone(),
                    mapper: mapper.clone(),
                    target: target.clone(),
                },
                &[&self.node],
            );
        });
    }
}
