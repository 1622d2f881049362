/**
 * A 430-byte x86-64 ELF "kernel" used to check that KVM can really run a guest (see kvm-check.ts).
 *
 * It does what every real guest does first, and what broken or pathologically slow KVMs fail at: enter long
 * mode with paging, then write 64 MiB of guest memory (first touch of every page). Then it signals success:
 *   - `out 0xf4, 0x31`  → QEMU's isa-debug-exit device ends QEMU with exit status (0x31 << 1) | 1 = 99;
 *   - `out 0x64, 0xfe`  → i8042 "reset CPU": Firecracker exits with status 0 (how `reboot=k` works).
 * On a real KVM host this takes well under 100 ms; under nested virtualization without usable EPT every
 * first touch of a page costs milliseconds (measured here: 32 MiB in ~4 s; a Debian kernel spends >10 s in
 * clear_bss alone), and some hosts stop with "KVM internal error". Both fail the check.
 *
 * Entry points: a PVH note (Xen ELF note 18) points at the 32-bit entry, which QEMU's microvm and
 * Firecracker (with PVH support) use; Firecracker without PVH jumps to `e_entry` in 64-bit mode with its own
 * identity-mapped page tables, so `e_entry` points straight at the 64-bit part.
 *
 * Code below assembled with GNU as from (load address 0x100100):
 *   .code32
 *   start32: cli
 *     mov $0x101000,%edi; xor %eax,%eax; mov $3072,%ecx; rep stosl        # zero PML4, PDPT, PD
 *     movl $0x102003,0x101000; movl $0x103003,0x102000                    # PML4[0]→PDPT, PDPT[0]→PD
 *     mov $0x103000,%edi; mov $0x83,%eax; mov $64,%ecx                     # PD: 64 × 2 MiB = 128 MiB
 *   2: movl %eax,(%edi); add $0x200000,%eax; add $8,%edi; loop 2b
 *     mov $0x101000,%eax; mov %eax,%cr3; mov %cr4,%eax; or $0x20,%eax; mov %eax,%cr4   # PAE
 *     mov $0xC0000080,%ecx; rdmsr; or $0x100,%eax; wrmsr                  # EFER.LME
 *     mov %cr0,%eax; or $0x80000001,%eax; mov %eax,%cr0                   # PG|PE
 *     lgdt gdtr; ljmp $0x08,$start64
 *   .code64
 *   start64: mov $0x400000,%rdi; mov $0x800000,%rcx; xor %eax,%eax; rep stosq   # touch 64 MiB
 *     mov $0x31,%al; out %al,$0xf4; mov $0xfe,%al; out %al,$0x64
 *   1: hlt; jmp 1b
 *   .align 8; gdt: .quad 0, 0x00af9a000000ffff; gdtr: .word 15; .long gdt
 */
const CODE_HEX =
  'fabf0010100031c0b9000c0000f3abc7050010100003201000c7050020100003301000bf00301000b883000000b940000000' +
  '8907050000200083c708e2f4b8001010000f22d80f20e083c8200f22e0b9800000c00f320d000100000f300f20c00d010000' +
  '800f22c00f0115a8011000ea76011000080048c7c70000400048c7c10000800031c0f348abb031e6f4b0fee664f4ebfd0f1f' +
  '40000000000000000000ffff0000009aaf000f0098011000';

const LOAD_ADDR = 0x100000; // Firecracker refuses segments below 1 MiB (HIMEM_START)
const CODE_OFFSET = 0x100;
const START32 = LOAD_ADDR + CODE_OFFSET;
const START64 = START32 + 0x76;
const NOTE_OFFSET = 176; // right after the ELF header (64) and two program headers (2 × 56)
const XEN_ELFNOTE_PHYS32_ENTRY = 18;

/** Guest memory the payload needs (page tables below 4 MiB, 64 MiB touched from 4 MiB on). */
export const KVM_PAYLOAD_MEMORY_MIB = 128;
/** QEMU's exit status when the payload reaches the end (isa-debug-exit: (0x31 << 1) | 1). */
export const KVM_PAYLOAD_QEMU_SUCCESS = 99;

export function buildKvmPayload(): Buffer {
  const code = Buffer.from(CODE_HEX, 'hex');
  const elf = Buffer.alloc(CODE_OFFSET + code.length);
  // ELF64 header: little-endian, executable, x86-64.
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(62, 18); // EM_X86_64
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BigInt(START64), 24); // e_entry
  elf.writeBigUInt64LE(64n, 32); // e_phoff
  elf.writeUInt16LE(64, 52); // e_ehsize
  elf.writeUInt16LE(56, 54); // e_phentsize
  elf.writeUInt16LE(2, 56); // e_phnum
  elf.writeUInt16LE(64, 58); // e_shentsize
  // PT_LOAD: the whole file at 1 MiB, R+X.
  writePhdr(elf, 64, { type: 1, flags: 5, offset: 0, addr: LOAD_ADDR, size: elf.length, align: 0x1000 });
  // PT_NOTE: the PVH entry note.
  writePhdr(elf, 120, { type: 4, flags: 4, offset: NOTE_OFFSET, addr: LOAD_ADDR + NOTE_OFFSET, size: 20, align: 4 });
  elf.writeUInt32LE(4, NOTE_OFFSET); // namesz
  elf.writeUInt32LE(4, NOTE_OFFSET + 4); // descsz
  elf.writeUInt32LE(XEN_ELFNOTE_PHYS32_ENTRY, NOTE_OFFSET + 8);
  elf.write('Xen\0', NOTE_OFFSET + 12, 'latin1');
  elf.writeUInt32LE(START32, NOTE_OFFSET + 16);
  code.copy(elf, CODE_OFFSET);
  return elf;
}

function writePhdr(
  buf: Buffer,
  at: number,
  p: { type: number; flags: number; offset: number; addr: number; size: number; align: number },
): void {
  buf.writeUInt32LE(p.type, at);
  buf.writeUInt32LE(p.flags, at + 4);
  buf.writeBigUInt64LE(BigInt(p.offset), at + 8);
  buf.writeBigUInt64LE(BigInt(p.addr), at + 16); // vaddr
  buf.writeBigUInt64LE(BigInt(p.addr), at + 24); // paddr
  buf.writeBigUInt64LE(BigInt(p.size), at + 32); // filesz
  buf.writeBigUInt64LE(BigInt(p.size), at + 40); // memsz
  buf.writeBigUInt64LE(BigInt(p.align), at + 48);
}
