use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use tollbooth::bootstrap::{FirstTenant, bootstrap};
use tollbooth::{Application, Settings, app, init_logging};

/// The first admin's email when `bootstrap` is not given one: a reserved domain (RFC 2606),
/// for a first run on a laptop.
const DEFAULT_ADMIN_EMAIL: &str = "admin@example.com";

/// jemalloc serves every allocation in the process, libpq's and OpenSSL's too (its symbols are
/// unprefixed): with glibc's malloc, a 100-row list spent a fifth of its CPU in malloc, mostly
/// consolidating freed small blocks whenever libpq asked for a result block.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Tollbooth: a self-hosted OAuth 2.0 authorization server with a management API and rate limits.
///
/// Settings come from config/default.toml, then the file given with --config, then
/// TOLLBOOTH_* environment variables (e.g. TOLLBOOTH_LISTEN, TOLLBOOTH_DATABASE_URL).
#[derive(Parser)]
#[command(name = "tollbooth", version)]
struct Cli {
    /// A TOML file overriding the defaults (same keys as config/default.toml).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending database migrations, then serve HTTP until stopped.
    Serve {
        /// On an empty database, first create and print the operator key, a tenant, its admin
        /// key and console admin (as `bootstrap` does). Does nothing on a bootstrapped database.
        #[arg(long)]
        bootstrap: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create the operator key, a first tenant, its admin key and an admin user for the
    /// console, and print their secrets once.
    Bootstrap {
        /// Print one JSON object {"operator_key","tenant_id","tenant_key","admin_email",
        /// "admin_password","console_url"} instead of text.
        #[arg(long)]
        json: bool,
        /// The first tenant's name.
        #[arg(long, default_value = "Default tenant")]
        tenant_name: String,
        /// The email of the first tenant's admin user, who signs in to the console.
        #[arg(long, default_value = DEFAULT_ADMIN_EMAIL)]
        admin_email: String,
    },
    /// Manage the JWT signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new signing key current. The old key stays in the JWKS until every token it
    /// signed has expired; running servers pick the new key up within token.key_reload_seconds.
    Rotate,
    /// Replace the operator key with a new one, printed once; the old one stops working at once
    /// (within a second on running servers).
    RotateOperator {
        /// Print one JSON object {"operator_key"} instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref(), std::env::vars()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings);
    // A command other than `serve` keeps no connection open ahead of need: a pool thread still
    // opening one (libpq's TLS set-up) when the process exits can crash it.
    let mut settings = settings;
    if !matches!(cli.command, Command::Serve { .. }) {
        settings.database.min_idle = 0;
    }
    match run(cli.command, &settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, settings: &Settings) -> Result<(), String> {
    match command {
        Command::Serve { bootstrap: bootstrap_first } => {
            if bootstrap_first {
                run_bootstrap(settings, false, "Default tenant", DEFAULT_ADMIN_EMAIL, true)?;
            }
            actix_web::rt::System::new().block_on(async {
                let application = Application::build(settings).map_err(|e| e.to_string())?;
                tracing::info!(listen = %settings.server.listen, issuer = %settings.oauth.issuer, "tollbooth is serving");
                application.run_until_stopped().await.map_err(|e| e.to_string())
            })
        }
        Command::Migrate => {
            app::open_database(settings).map_err(|e| e.to_string())?;
            println!("Migrations are up to date.");
            Ok(())
        }
        Command::Bootstrap { json, tenant_name, admin_email } => {
            run_bootstrap(settings, json, &tenant_name, &admin_email, false)
        }
        Command::Keys { command: KeysCommand::RotateOperator { json } } => {
            let db = app::open_database(settings).map_err(|e| e.to_string())?;
            let hasher = app::secret_hasher(settings, &db).map_err(|e| e.to_string())?;
            let key = tollbooth::bootstrap::rotate_operator_key(&db, &hasher).map_err(|e| e.to_string())?;
            if json {
                println!("{}", serde_json::json!({ "operator_key": key.expose_secret() }));
            } else {
                println!(
                    "New operator key (shown only now; the old one no longer works):\n\n  {}\n",
                    key.expose_secret()
                );
            }
            Ok(())
        }
        Command::Keys { command: KeysCommand::Rotate } => {
            let db = app::open_database(settings).map_err(|e| e.to_string())?;
            let lifetime = chrono::Duration::seconds(settings.token.max_access_token_ttl);
            let (kids, retired) = tollbooth_oauth::keys::rotate(&db, settings.token.signing_algorithm, lifetime)
                .map_err(|e| e.to_string())?;
            println!(
                "New signing keys {} are current; {retired} retired key(s) stay in the JWKS for {} s.",
                kids.join(", "),
                settings.token.max_access_token_ttl
            );
            Ok(())
        }
    }
}

/// Bootstraps; an already bootstrapped database is an error unless `if_empty`.
fn run_bootstrap(
    settings: &Settings,
    json: bool,
    tenant_name: &str,
    admin_email: &str,
    if_empty: bool,
) -> Result<(), String> {
    let db = app::open_database(settings).map_err(|e| e.to_string())?;
    let hasher = app::secret_hasher(settings, &db).map_err(|e| e.to_string())?;
    let first = FirstTenant {
        name: tenant_name,
        plan: &settings.rate_limit.plan_default,
        admin_email,
        issuer: settings.oauth.issuer.as_str(),
    };
    match bootstrap(&db, &hasher, first)? {
        Some(keys) if json => println!("{}", keys.to_json()),
        Some(keys) => println!("{}", keys.to_text()),
        None if if_empty => {}
        None => {
            return Err("this database is already bootstrapped; its operator key was printed then".into());
        }
    }
    Ok(())
}
