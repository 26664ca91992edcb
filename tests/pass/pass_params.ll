; RUN: %opt -passes=bpf-cov -disable-output %s
; RUN: %opt -passes='bpf-cov<loadable>' -disable-output %s
; RUN: %opt -passes='bpf-cov<mapping>' -disable-output %s
; RUN: %opt -passes='bpf-cov<loadable;object=2f746d702f782e6f>' -disable-output %s
; RUN: %opt -passes='bpf-cov<loadable;object=2F746D702F782E6F>' -disable-output %s
; RUN: not %opt -passes='bpf-cov<bogus>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=BOGUS
; RUN: not %opt -passes='bpf-cov<loadable;bogus>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=BOGUS2
; RUN: not %opt -passes='bpf-cov<loadable;object=zz>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=NOTHEX
; RUN: not %opt -passes='bpf-cov<object>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=NOVALUE
; RUN: not %opt -passes='bpf-covx' -disable-output %s 2>&1 | FileCheck %s --check-prefix=SUFFIX
; RUN: not %opt -passes='bpf-cov<>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=EMPTY
; RUN: not %opt -passes='bpf-cov<loadable;object=2f7>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=ODD
; RUN: not %opt -passes='bpf-cov<loadable;mapping>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=TWOMODES
; RUN: not %opt -passes='bpf-cov<mapping;object=2f78>' -disable-output %s 2>&1 | FileCheck %s --check-prefix=MAPOBJ
;
; The pass is named bpf-cov and takes the parameters loadable (the default),
; mapping and object=HEX (the mapping object's path, hex-encoded, either
; case), separated by ';'. opt rejects any other parameter, a value that is not
; hex, "object" without a value and any other name that starts with bpf-cov,
; instead of running a pass with a silently wrong setting: also empty
; parameters, hex of odd length, two modes, and object= with mapping mode. (A plain `not` also
; fails if opt crashes.)

target triple = "bpf"

define i32 @f() {
  ret i32 0
}

; BOGUS:   unknown pass name 'bpf-cov<bogus>'
; BOGUS2:  unknown pass name 'bpf-cov<loadable;bogus>'
; NOTHEX:  unknown pass name 'bpf-cov<loadable;object=zz>'
; NOVALUE: unknown pass name 'bpf-cov<object>'
; SUFFIX:  unknown pass name 'bpf-covx'
; EMPTY:    unknown pass name 'bpf-cov<>'
; ODD:      unknown pass name 'bpf-cov<loadable;object=2f7>'
; TWOMODES: unknown pass name 'bpf-cov<loadable;mapping>'
; MAPOBJ:   unknown pass name 'bpf-cov<mapping;object=2f78>'
