//! Loads an XDP object with libbpf-rs and runs its program on packets in the kernel:
//!
//!     libbpf-rs-loader OBJECT.bpf.o PROGRAM PACKET.bin:REPEAT...
//!
//! libbpf (through libbpf-rs 0.27) creates the object's maps and loads its programs;
//! the runs are libbpf-rs's `test_run` (BPF_PROG_TEST_RUN). Prints each run's verdict.

use std::process::ExitCode;

use libbpf_rs::{ObjectBuilder, ProgramInput};

/// `PATH:REPEAT` (or `PATH`, once) → the packet's bytes and its repeat count.
fn packet_arg(arg: &str) -> Result<(Vec<u8>, u32), String> {
    let (path, repeat) = match arg.rsplit_once(':') {
        Some((path, n)) => (path, n.parse().map_err(|_| format!("{arg}: bad repeat count"))?),
        None => (arg, 1),
    };
    let data = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    Ok((data, repeat))
}

fn run(args: &[String]) -> Result<(), String> {
    let [object, program, packets @ ..] = args else {
        return Err("usage: libbpf-rs-loader OBJECT.bpf.o PROGRAM PACKET.bin[:REPEAT]...".into());
    };
    let open = ObjectBuilder::default()
        .open_file(object)
        .map_err(|e| format!("opening {object}: {e}"))?;
    let obj = open.load().map_err(|e| format!("loading {object}: {e}"))?;
    let prog = obj
        .progs_mut()
        .find(|p| p.name() == program.as_str())
        .ok_or_else(|| format!("{object} has no program {program}"))?;
    for arg in packets {
        let (mut packet, repeat) = packet_arg(arg)?;
        let mut input = ProgramInput::default();
        input.data_in = Some(&mut packet);
        input.repeat = repeat;
        let output = prog.test_run(input).map_err(|e| format!("test run: {e}"))?;
        println!("{arg}: {}", output.return_value);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("libbpf-rs-loader: {message}");
            ExitCode::FAILURE
        }
    }
}
