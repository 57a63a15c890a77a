//! `meta_quality` of `/_ar/health`: Meta's cached grades (`store::dataset_quality`, fetched by the
//! cron) beside the health figures, as `ar_shared::platform::dataset_quality::view` puts them.

use ar_shared::health_report::HealthFigures;
use ar_shared::platform::dataset_quality::{MetaQuality, agent_name, view};
use ar_shared::settings::Settings;
use worker::{D1Database, Env, console_error};

use crate::delivery::dataset_quality::every_ms;
use crate::store::dataset_quality;

/// The comparison, or `None` when Meta is not configured. An unreadable cache shows as "not
/// fetched yet" (and is logged): the rest of the report does not depend on it.
pub(super) async fn read(
    env: &Env,
    db: &D1Database,
    settings: &Settings,
    figures: &HealthFigures,
) -> Option<MetaQuality> {
    let config = settings.meta.as_ref()?;
    let dataset = config.pixel_id.trim();
    let cached = dataset_quality::load(db, dataset)
        .await
        .unwrap_or_else(|e| {
            console_error!("ar: dataset quality cache unreadable: {e}");
            None
        });
    let agent = config.partner_agent.as_deref().and_then(agent_name);
    Some(view(
        dataset,
        agent,
        cached.as_ref(),
        figures,
        &settings.mappings,
        every_ms(env),
    ))
}
