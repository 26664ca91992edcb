//! Loads an XDP object with aya and runs its program on packets in the kernel:
//!
//!     aya-loader OBJECT.bpf.o PROGRAM PACKET.bin:REPEAT...
//!
//! aya (0.13) creates the object's maps and loads the program; it has no call for
//! BPF_PROG_TEST_RUN, so the runs are made with the bpf() syscall on aya's program fd.
//! Prints each run's verdict (the program's return value).

use std::os::fd::{AsFd, AsRawFd};
use std::process::ExitCode;

use aya::programs::Xdp;
use aya::Ebpf;

const BPF_PROG_TEST_RUN: libc::c_long = 10;

/// The `test` member of `union bpf_attr` (linux/bpf.h), up to `duration`.
#[repr(C, align(8))]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
}

/// Runs the program of `prog_fd` `repeat` times on `packet`; its return value.
fn test_run(prog_fd: i32, packet: &[u8], repeat: u32) -> std::io::Result<u32> {
    let mut out = vec![0u8; packet.len() + 256];
    let mut attr = TestRunAttr {
        prog_fd: prog_fd as u32,
        data_size_in: packet.len() as u32,
        data_size_out: out.len() as u32,
        data_in: packet.as_ptr() as u64,
        data_out: out.as_mut_ptr() as u64,
        repeat,
        ..Default::default()
    };
    // SAFETY: attr is a valid bpf_attr prefix of the size passed, and its pointers
    // point to buffers of the sizes it gives, alive for the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_TEST_RUN,
            &mut attr as *mut TestRunAttr,
            std::mem::size_of::<TestRunAttr>(),
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(attr.retval)
}

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
        return Err("usage: aya-loader OBJECT.bpf.o PROGRAM PACKET.bin[:REPEAT]...".into());
    };
    let mut ebpf = Ebpf::load_file(object).map_err(|e| format!("loading {object}: {e:?}"))?;
    let xdp: &mut Xdp = ebpf
        .program_mut(program)
        .ok_or_else(|| format!("{object} has no program {program}"))?
        .try_into()
        .map_err(|e| format!("{program}: {e}"))?;
    xdp.load().map_err(|e| format!("loading {program}: {e:?}"))?;
    let fd = xdp.fd().map_err(|e| format!("{program}: {e}"))?.as_fd().as_raw_fd();
    for arg in packets {
        let (packet, repeat) = packet_arg(arg)?;
        let verdict = test_run(fd, &packet, repeat).map_err(|e| format!("test run: {e}"))?;
        println!("{arg}: {verdict}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("aya-loader: {message}");
            ExitCode::FAILURE
        }
    }
}
