//! The `tollbooth` binary's library: settings, app assembly, bootstrap, middleware.

pub mod app;
pub mod bootstrap;
mod health;
pub mod metrics;
pub mod rate_limit;
pub mod request_log;
pub mod settings;

pub use app::{Application, StartError};
pub use settings::Settings;

/// Installs the log subscriber (once per process).
pub fn init_logging(settings: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log.level));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match settings.log.format {
        settings::LogFormat::Text => builder.try_init(),
        settings::LogFormat::Json => builder.json().try_init(),
    };
}
