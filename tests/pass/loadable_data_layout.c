// RUN: %clang_bpf -S -emit-llvm %s -o %t.ll
// RUN: %opt -passes=bpf-cov %t.ll -o %t.bc
// RUN: %llc -march=bpf -filetype=obj %t.bc -o %t.o
// RUN: %readelf -S -s %t.o | FileCheck %s --check-prefix=V%raw_version
//
// The split __profd_ fields land in the object exactly where the raw
// profile's data record of this LLVM has them, so that the runtime can read
// .rodata.profd as an array of records: the section is one record per
// function and each field symbol sits at record index * record size + field
// offset. Raw format v8 (LLVM 14-17): 48-byte records; v9 (LLVM 18): 64
// bytes, with BitmapPtr and NumBitmapBytes, and 4 bytes of padding at the end
// that are written out too; v10 (LLVM 19-22): 64 bytes, three value kinds;
// v11 (LLVM 23): 72 bytes, with UniformCounterPtr and OffloadDeviceWaveSize.

int first(int x) { return x > 0 ? 1 : 2; }
int second(int x) { return x + 3; }

// V8:  [{{ *}}[[SEC:[0-9]+]]] .rodata.profd PROGBITS {{[0-9a-f]+}} {{[0-9a-f]+}} 000060 00 A 0 0 8
// V8-DAG:  0000000000000000 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_first_NameRef
// V8-DAG:  0000000000000030 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NameRef
// V8-DAG:  0000000000000038 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_FuncHash
// V8-DAG:  0000000000000040 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_CounterPtr
// V8-DAG:  0000000000000048 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_FunctionPointer
// V8-DAG:  0000000000000050 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_Values
// V8-DAG:  0000000000000058 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumCounters
// V8-DAG:  000000000000005c 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumValueSites

// V9:  [{{ *}}[[SEC:[0-9]+]]] .rodata.profd PROGBITS {{[0-9a-f]+}} {{[0-9a-f]+}} 000080 00 A 0 0 8
// V9-DAG:  0000000000000000 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_first_NameRef
// V9-DAG:  000000000000003c 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_first_TailPadding
// V9-DAG:  0000000000000040 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NameRef
// V9-DAG:  0000000000000048 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_FuncHash
// V9-DAG:  0000000000000050 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_CounterPtr
// V9-DAG:  0000000000000058 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_BitmapPtr
// V9-DAG:  0000000000000060 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_FunctionPointer
// V9-DAG:  0000000000000068 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_Values
// V9-DAG:  0000000000000070 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumCounters
// V9-DAG:  0000000000000074 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumValueSites
// V9-DAG:  0000000000000078 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumBitmapBytes
// V9-DAG:  000000000000007c 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_TailPadding

// V10: [{{ *}}[[SEC:[0-9]+]]] .rodata.profd PROGBITS {{[0-9a-f]+}} {{[0-9a-f]+}} 000080 00 A 0 0 8
// V10-DAG: 0000000000000000 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_first_NameRef
// V10-DAG: 0000000000000040 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NameRef
// V10-DAG: 0000000000000048 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_FuncHash
// V10-DAG: 0000000000000050 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_CounterPtr
// V10-DAG: 0000000000000058 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_BitmapPtr
// V10-DAG: 0000000000000060 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_FunctionPointer
// V10-DAG: 0000000000000068 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_Values
// V10-DAG: 0000000000000070 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumCounters
// V10-DAG: 0000000000000074 6 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumValueSites
// V10-DAG: 000000000000007c 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumBitmapBytes

// V11: [{{ *}}[[SEC:[0-9]+]]] .rodata.profd PROGBITS {{[0-9a-f]+}} {{[0-9a-f]+}} 000090 00 A 0 0 8
// V11-DAG: 0000000000000000 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_first_NameRef
// V11-DAG: 0000000000000048 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NameRef
// V11-DAG: 0000000000000050 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_FuncHash
// V11-DAG: 0000000000000058 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_CounterPtr
// V11-DAG: 0000000000000060 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_UniformCounterPtr
// V11-DAG: 0000000000000068 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_BitmapPtr
// V11-DAG: 0000000000000070 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_FunctionPointer
// V11-DAG: 0000000000000078 8 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_Values
// V11-DAG: 0000000000000080 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumCounters
// V11-DAG: 0000000000000084 6 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumValueSites
// V11-DAG: 000000000000008a 2 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_OffloadDeviceWaveSize
// V11-DAG: 000000000000008c 4 OBJECT GLOBAL DEFAULT [[SEC]] __profd_second_NumBitmapBytes
