//! `print`: writes each record as a line `[label]: <key, value>` (Kafka's
//! `KStreamPrint` with its `PrintForeachAction`); a terminal processor.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use streams_core::prelude::*;

/// Formats a record for printing.
pub(crate) type PrintMapper<K, V> = Arc<dyn Fn(&K, &V) -> String + Send + Sync>;

/// Where printed lines go: standard output, or a writer every task shares.
#[derive(Clone)]
pub(crate) enum PrintTarget {
    /// Standard output.
    Stdout,
    /// A shared writer (a file, a buffer in a test).
    Writer(Arc<Mutex<dyn Write + Send>>),
}

impl PrintTarget {
    /// Writes one line and flushes it, so lines of concurrent tasks do not
    /// interleave mid-line and appear as soon as they are printed.
    fn print_line(&self, line: &str) -> std::io::Result<()> {
        match self {
            Self::Stdout => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")?;
                out.flush()
            }
            Self::Writer(writer) => {
                // A panic in another task's write leaves at worst a partial
                // line; the writer itself is still usable.
                let mut out = writer.lock().unwrap_or_else(PoisonError::into_inner);
                writeln!(out, "{line}")?;
                out.flush()
            }
        }
    }
}

/// Prints every record as `[label]: <mapper(key, value)>`.
pub(crate) struct Print<K, V> {
    pub(crate) label: String,
    pub(crate) mapper: PrintMapper<K, V>,
    pub(crate) target: PrintTarget,
}

impl<K: 'static, V: 'static> Processor<K, V> for Print<K, V> {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, (), ()>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let line = format!(
            "[{}]: {}",
            self.label,
            (self.mapper)(&record.key, &record.value)
        );
        self.target
            .print_line(&line)
            .map_err(|error| StreamsError::processor(ctx.processor_name(), error))
    }
}
