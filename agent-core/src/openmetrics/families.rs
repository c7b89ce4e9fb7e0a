//! Writing metric families: one descriptor (`# HELP`, `# TYPE`, `# UNIT`) and one sample per
//! label value, in the OpenMetrics text format through `prometheus-client`'s encoder.

use std::fmt;

use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

use super::histogram::HistogramReading;

/// Writes the families of one label (`agent`, `pool`, `topic`...).
pub(crate) struct Families<'a, 'e> {
    pub(crate) encoder: &'a mut DescriptorEncoder<'e>,
    pub(crate) label: &'static str,
}

impl Families<'_, '_> {
    /// One descriptor, then `sample` for each row under its label value.
    fn family<'v, V>(
        &mut self,
        descriptor: (&str, &str, Option<&Unit>, MetricType),
        rows: impl IntoIterator<Item = (&'v str, V)>,
        sample: impl Fn(&mut MetricEncoder<'_>, V) -> fmt::Result,
    ) -> fmt::Result {
        let (name, help, unit, metric_type) = descriptor;
        let mut metric = self
            .encoder
            .encode_descriptor(name, help, unit, metric_type)?;
        for (value, v) in rows {
            let labels = [(self.label, value)];
            sample(&mut metric.encode_family(&labels)?, v)?;
        }
        Ok(())
    }

    /// A counter (`<name>_total`) per label value.
    pub(crate) fn counter<'v, V: EncodeCounterValue + 'v>(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<&Unit>,
        rows: impl IntoIterator<Item = (&'v str, V)>,
    ) -> fmt::Result {
        self.family((name, help, unit, MetricType::Counter), rows, |m, n| {
            m.encode_counter::<NoLabelSet, V, f64>(&n, None)
        })
    }

    /// A gauge per label value.
    pub(crate) fn gauge<'v, V: EncodeGaugeValue + 'v>(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<&Unit>,
        rows: impl IntoIterator<Item = (&'v str, V)>,
    ) -> fmt::Result {
        self.family((name, help, unit, MetricType::Gauge), rows, |m, n| {
            m.encode_gauge(&n)
        })
    }

    /// A histogram in seconds per label value.
    pub(crate) fn histogram<'v>(
        &mut self,
        name: &str,
        help: &str,
        rows: impl IntoIterator<Item = (&'v str, HistogramReading)>,
    ) -> fmt::Result {
        let descriptor = (name, help, Some(&Unit::Seconds), MetricType::Histogram);
        self.family(descriptor, rows, |m, h| {
            m.encode_histogram::<NoLabelSet>(h.sum_seconds, h.count, &h.buckets, None)
        })
    }
}

/// A metric with no labels.
pub(crate) fn single_counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: u64,
) -> fmt::Result {
    encoder
        .encode_descriptor(name, help, None, MetricType::Counter)?
        .encode_counter::<NoLabelSet, u64, f64>(&value, None)
}
