/* Structs, arrays and dense switch statements (jump tables): a small stack-machine
 * interpreter and a record-processing loop. */
#include "common.h"

enum op { PUSH, ADD, SUB, MUL, DUP, SWAP, ROT, JNZ, DEC, XOR, SHL, POP, HALT };

struct insn {
    uint8_t op;
    int32_t arg;
};

struct record {
    uint8_t kind;
    uint16_t tag;
    int32_t value;
    int64_t total;
};

volatile uint64_t seed = 0x0123456789ABCDEFULL;

/* (100 - (5 << 3)) */
static const struct insn straight[] = {
    {PUSH, 5}, {PUSH, 3}, {SHL, 0}, {PUSH, 100}, {SWAP, 0}, {SUB, 0}, {HALT, 0},
};

/* acc = sum over k = 50..1 of (k * k) ^ 7; the stack holds [acc, k] at the loop head */
static const struct insn loop[] = {
    {PUSH, 0}, {PUSH, 50},
    {DUP, 0}, {DUP, 0}, {MUL, 0}, {PUSH, 7}, {XOR, 0},  /* 2: acc k x */
    {ROT, 0}, {ADD, 0}, {SWAP, 0},                      /* acc+x k */
    {DEC, 0}, {JNZ, 2},
    {POP, 0}, {HALT, 0},
};

static int64_t run(const struct insn *code, int64_t *stack, int max_steps)
{
    int sp = 0, pc = 0;
    for (int steps = 0; steps < max_steps; steps++) {
        const struct insn in = code[pc++];
        int64_t t;
        switch (in.op) {
        case PUSH: stack[sp++] = in.arg; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case SWAP: t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break;
        case ROT:           /* a b c -> b c a */
            t = stack[sp - 3];
            stack[sp - 3] = stack[sp - 2];
            stack[sp - 2] = stack[sp - 1];
            stack[sp - 1] = t;
            break;
        case JNZ: if (stack[sp - 1]) pc = in.arg; break;
        case DEC: stack[sp - 1]--; break;
        case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case SHL: sp--; stack[sp - 1] <<= stack[sp]; break;
        case POP: sp--; break;
        case HALT: return stack[sp - 1] + sp * 1000;
        default: return -1;
        }
    }
    return -2;
}

static void process(struct record *recs, int n)
{
    for (int i = 0; i < n; i++) {
        struct record r = recs[i];
        switch (r.kind) {
        case 0: r.total += r.value; break;
        case 1: r.total -= r.value * 3; break;
        case 2: r.total ^= (int64_t)r.tag << 20; break;
        case 3: r.tag = (uint16_t)(r.tag * 7 + 1); break;
        case 4: r.value = -r.value; break;
        case 5: r.total = r.total * 5 / 4; break;
        case 6: r.value >>= 3; break;
        case 7: r.total += r.tag + r.value; break;
        default: r.kind = 0; break;
        }
        recs[i] = r;
    }
}

static struct record recs[48];
static int64_t stack[256];

uint64_t main(void)
{
    uint64_t st = seed;
    for (int i = 0; i < 48; i++) {
        uint64_t x = rand64(&st);
        recs[i].kind = (uint8_t)(x % 9);
        recs[i].tag = (uint16_t)(x >> 8);
        recs[i].value = (int32_t)(x >> 24);
        recs[i].total = (int64_t)x >> 40;
    }
    for (int round = 0; round < 4; round++)
        process(recs, 48);
    uint64_t h = 0;
    for (int i = 0; i < 48; i++)
        h = h * 0x100000001B3ULL ^ (uint64_t)recs[i].total ^ ((uint64_t)recs[i].tag << 48) ^
            (uint64_t)(uint32_t)recs[i].value ^ recs[i].kind;
    results[0] = h;
    results[1] = (uint64_t)run(straight, stack, 100);
    results[2] = (uint64_t)run(loop, stack, 10000);
    return checksum();
}
