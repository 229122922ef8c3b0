//! The service's Kafka callbacks: rebalances of the ticket consumer go to the
//! pipeline (finish and commit revoked partitions, note assignments), and
//! every delivery report — success or failure — reaches the offset tracker
//! exactly once, so an input offset is stored only after its output was
//! acknowledged.

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::TopicPartitionList;
use tracing::{debug, warn};

use super::kafka::{Role, ServiceContext};
use super::pipeline::{self, SlotKind};
use super::tracker::Outcome;
use crate::metrics::produce_error_code;

impl ConsumerContext for ServiceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if self.role != Role::Tickets {
            return;
        }
        match rebalance {
            Rebalance::Revoke(tpl) => pipeline::on_revoke(&self.shared, consumer, tpl),
            Rebalance::Assign(tpl) => pipeline::on_assign(&self.shared, tpl),
            Rebalance::Error(e) => warn!(error = %e, "rebalance error"),
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if self.role != Role::Tickets {
            return;
        }
        if let Rebalance::Assign(tpl) = rebalance {
            pipeline::after_assign(&self.shared, consumer, tpl);
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        if self.role != Role::Tickets {
            return;
        }
        match result {
            Ok(()) => debug!(?offsets, "offsets committed"),
            // Nothing stored since the last commit: not a failure.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => self.shared.metrics.commit_failed(&e),
        }
    }
}

impl ProducerContext for ServiceContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, slot: usize) {
        let shared = &self.shared;
        let (outcome, in_flight) = {
            let mut t = shared.tracker.lock().expect("not poisoned");
            let o = match result {
                Ok(_) => t.ack(slot),
                Err((e, m)) => {
                    let code = e
                        .rdkafka_error_code()
                        .map(produce_error_code)
                        .unwrap_or("other");
                    pipeline::on_refused(
                        shared,
                        &mut t,
                        slot,
                        code,
                        m.key(),
                        m.payload(),
                        m.headers(),
                    )
                }
            };
            if t.waiting {
                shared.drained.notify_all();
            }
            (o, t.in_flight())
        };
        shared.hot.in_flight.set(in_flight as i64);
        let info = match outcome {
            Some(Outcome::Acked(i)) | Some(Outcome::Stale(i)) => i,
            None => return,
        };
        match result {
            Ok(_) => {
                shared
                    .hot
                    .delivery
                    .observe(info.sent_at.elapsed().as_secs_f64());
                match &info.kind {
                    SlotKind::Triaged {
                        active,
                        level,
                        created_at,
                    } => {
                        let l = *level as usize;
                        active.metrics.produced[l].inc();
                        let age = jiff::Timestamp::now().duration_since(*created_at);
                        active.metrics.age[l].observe(age.as_secs_f64().max(0.0));
                    }
                    SlotKind::DeadLetter { .. } => shared.hot.dlq_produced.inc(),
                }
            }
            Err((e, _)) => {
                let code = e
                    .rdkafka_error_code()
                    .map(produce_error_code)
                    .unwrap_or("other");
                let topic = match &info.kind {
                    SlotKind::Triaged { active, level, .. } => {
                        active.rules.levels[*level as usize].topic.to_string()
                    }
                    SlotKind::DeadLetter { .. } => shared.config.dead_letter_topic.clone(),
                };
                shared
                    .metrics
                    .produce_error(code, e, &topic, info.partition, info.offset);
            }
        }
    }
}
