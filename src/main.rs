use clap::Parser;
use clusterkick::cmdline::{Cli, Cmd};
use clusterkick::report::{exit, say};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Check(c) => clusterkick::commands::check(&c),
        Cmd::Secrets(c) => clusterkick::commands::secrets(&c),
        Cmd::Build(c) => clusterkick::commands::build(&c),
        Cmd::Render(c) => clusterkick::commands::render(&c),
        Cmd::Iso(c) => clusterkick::commands::iso(&c),
        Cmd::Diff(c) => return clusterkick::report::finish_diff(clusterkick::commands::diff(&c)),
        Cmd::Init(c) => clusterkick::commands::init(&c),
        Cmd::Node(c) => clusterkick::commands::node(&c),
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            if let Some(text) = e.report() {
                say(text);
            }
            ExitCode::from(e.exit_code())
        }
    }
}
