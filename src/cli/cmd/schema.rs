//! `gokeep schema`: the JSON Schema of each `--json` document, derived from
//! the very types serde writes, so the schema cannot describe other output.
//! `docs/schemas/<document>.json` holds the same text for reading without gokeep.

use std::fmt::Write as _;

use schemars::{JsonSchema, Schema, generate::SchemaSettings};
use serde_json::Value;

use crate::cli::{Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
#[command(after_help = "Without DOCUMENT, lists the documents. \
Every document carries `schema_version`; it is bumped on any incompatible change.")]
pub struct Args {
    /// The `--json` document whose schema to print.
    #[arg(value_enum, value_name = "DOCUMENT")]
    pub document: Option<Document>,
}

/// One `--json` document: what a command prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Document {
    /// `gokeep env --json`
    Env,
    /// `gokeep status --json`
    Status,
    /// `gokeep verify --json`
    Verify,
    /// `gokeep explain --json`
    Explain,
    /// `gokeep prune --json`
    Prune,
    /// `gokeep status --discover --json`
    StatusDiscover,
    /// `gokeep prune --discover --json`
    PruneDiscover,
    /// `gokeep mark --json`
    Mark,
    /// `gokeep log --json`
    Log,
    /// `gokeep gocache refresh --json`
    GocacheRefresh,
    /// `gokeep schedule validate --json`
    ScheduleValidate,
    /// `gokeep schedule show --json`
    ScheduleShow,
    /// `gokeep schedule install --json`
    ScheduleInstall,
    /// `gokeep schedule uninstall --json`
    ScheduleUninstall,
    /// `gokeep doctor --json`
    Doctor,
    /// `gokeep doctor --chain MODULE --json`
    DoctorChain,
    /// `gokeep probe --json`
    Probe,
    /// `gokeep profile list --json`
    ProfileList,
    /// `gokeep profile show --json`
    ProfileShow,
    /// `gokeep profile diff --json`
    ProfileDiff,
    /// `gokeep profile apply --json`
    ProfileApply,
    /// `gokeep link --json`
    Link,
    /// `gokeep unlink --json`
    Unlink,
    /// `gokeep links --json`
    Links,
    /// `gokeep check --json`
    Check,
    /// What any command prints under `--json` when it fails before its document.
    Error,
}

impl Document {
    /// The name on the command line and in `docs/schemas/`.
    pub fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self).map(|v| v.get_name().to_owned()).unwrap_or_default()
    }

    fn command(self) -> &'static str {
        match self {
            Document::Env => "gokeep env --json",
            Document::Status => "gokeep status --json",
            Document::Verify => "gokeep verify --json",
            Document::Explain => "gokeep explain --json",
            Document::Prune => "gokeep prune --json",
            Document::StatusDiscover => "gokeep status --discover --json",
            Document::PruneDiscover => "gokeep prune --discover --json",
            Document::Mark => "gokeep mark --json",
            Document::Log => "gokeep log --json",
            Document::GocacheRefresh => "gokeep gocache refresh --json",
            Document::ScheduleValidate => "gokeep schedule validate --json",
            Document::ScheduleShow => "gokeep schedule show --json",
            Document::ScheduleInstall => "gokeep schedule install --json",
            Document::ScheduleUninstall => "gokeep schedule uninstall --json",
            Document::Doctor => "gokeep doctor --json",
            Document::DoctorChain => "gokeep doctor --chain MODULE --json",
            Document::Probe => "gokeep probe --json",
            Document::ProfileList => "gokeep profile list --json",
            Document::ProfileShow => "gokeep profile show --json",
            Document::ProfileDiff => "gokeep profile diff --json",
            Document::ProfileApply => "gokeep profile apply --json",
            Document::Link => "gokeep link --json",
            Document::Unlink => "gokeep unlink --json",
            Document::Links => "gokeep links --json",
            Document::Check => "gokeep check --json",
            Document::Error => "gokeep COMMAND --json, when it fails",
        }
    }

    /// The schema, as `gokeep schema <name>` prints it.
    pub fn schema(self) -> Schema {
        let mut schema = match self {
            Document::Env => root::<crate::cli::render::env::EnvJson<'static>>(),
            Document::Status => root::<crate::cli::render::status::StatusJson<'static>>(),
            Document::Verify => root::<crate::cli::render::verify::VerifyJson<'static>>(),
            Document::Explain => root::<crate::cli::render::explain::ExplainJson<'static>>(),
            Document::Prune => root::<crate::cli::render::prune::PruneJson<'static>>(),
            Document::StatusDiscover => root::<crate::cli::render::discover::StatusDiscoverJson<'static>>(),
            Document::PruneDiscover => root::<crate::cli::render::discover::PruneDiscoverJson>(),
            Document::Mark => root::<crate::cli::render::mark::MarkJson<'static>>(),
            Document::Log => root::<crate::cli::render::log::LogJson<'static>>(),
            Document::GocacheRefresh => root::<crate::cli::render::gocache::RefreshJson<'static>>(),
            Document::ScheduleValidate => root::<crate::cli::render::schedule::ValidateJson<'static>>(),
            Document::ScheduleShow => root::<crate::cli::render::schedule::ShowJson<'static>>(),
            Document::ScheduleInstall | Document::ScheduleUninstall => {
                root::<crate::cli::render::schedule::PlanJson<'static>>()
            }
            Document::Doctor => root::<crate::cli::render::doctor::DoctorJson<'static>>(),
            Document::DoctorChain => root::<crate::cli::render::doctor::ChainJson<'static>>(),
            Document::Probe => root::<crate::cli::render::probe::ProbeJson<'static>>(),
            Document::ProfileList => root::<crate::cli::render::profile::ListJson<'static>>(),
            Document::ProfileShow => root::<crate::cli::render::profile::ShowJson<'static>>(),
            Document::ProfileDiff => root::<crate::cli::render::profile::DiffJson<'static>>(),
            Document::ProfileApply => root::<crate::cli::render::profile::Applied<'static>>(),
            Document::Link => root::<crate::cli::render::link::LinkJson<'static>>(),
            Document::Unlink => root::<crate::cli::render::link::UnlinkJson<'static>>(),
            Document::Links => root::<crate::cli::render::link::LinksJson<'static>>(),
            Document::Check => root::<crate::cli::render::link::CheckJson<'static>>(),
            Document::Error => root::<crate::cli::printer::ErrorJson>(),
        };
        schema.insert("title".into(), Value::from(self.command()));
        // Every command writes version 1 today; a reader checks it before anything else.
        if let Some(Value::Object(props)) = schema.get_mut("properties")
            && let Some(Value::Object(version)) = props.get_mut("schema_version")
        {
            version.insert("const".into(), Value::from(1));
        }
        schema
    }
}

fn root<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>()
}

pub fn run(args: &Args, _settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    let text = if let Some(d) = args.document {
        format!("{}\n", serde_json::to_string_pretty(&d.schema())?)
    } else {
        let docs = <Document as clap::ValueEnum>::value_variants();
        let width = docs.iter().map(|d| d.name().len()).max().unwrap_or(0);
        docs.iter().fold(String::new(), |mut s, d| {
            let _ = writeln!(s, "{:<width$}  {}", d.name(), d.command());
            s
        })
    };
    printer.out(&text)?;
    Ok(Outcome::Clean)
}
