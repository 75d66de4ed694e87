using Keel.Core.Field;
using Keel.Prover.Air;
using Keel.Rollup.Execution;
using Keel.Rollup.Hashing;
using Keel.Rollup.State;
using Keel.Rollup.Transactions;
using Keel.Rollup.Witness;

namespace Keel.Prover.Transfer;

/// <summary>A witness the transfer AIR cannot express (too many transfers, a missing opening).</summary>
public sealed class TransferWitnessException(string message) : Exception(message);

/// <summary>
/// Builds the <see cref="TransferAir"/> statement and trace from a rollup <see cref="BatchWitness"/>.
/// It follows the witness as given (declared statuses, openings, tips, roots, commitment) and
/// derives everything else by the rules, so a witness that lies yields a trace that breaks the
/// AIR (the prover then refuses it) rather than a silently corrected proof.
/// </summary>
public static class TransferTraceBuilder
{
    /// <summary>The statement's public inputs for <paramref name="witness"/>.</summary>
    public static ulong[] PublicInputs(BatchWitness witness)
    {
        ArgumentNullException.ThrowIfNull(witness);
        if (witness.Transfers.Count > TransferAir.MaxTransfers)
        {
            throw new TransferWitnessException($"the transfer AIR proves at most {TransferAir.MaxTransfers} transfers per proof, the witness has {witness.Transfers.Count}");
        }
        var p = witness.Parameters;
        var e = new ulong[TransferStatement.HeaderElements + TransferStatement.TransferElements * witness.Transfers.Count];
        Span<ulong> s = e;
        FieldEncoding.WriteU64(p.ChainId, s);
        witness.PreStateRoot.CopyTo(s[2..]);
        witness.PostStateRoot.CopyTo(s[6..]);
        witness.BatchCommitment.CopyTo(s[10..]);
        e[14] = (ulong)witness.Transfers.Count;
        FieldEncoding.WriteAmount(p.BaseFeePerGas, s[15..]);
        FieldEncoding.WriteAddress(p.FeeRecipient, s[19..]);
        for (var t = 0; t < witness.Transfers.Count; t++)
        {
            BatchCommitment.Encode(witness.Transfers[t].Transfer, s[(TransferStatement.HeaderElements + TransferStatement.TransferElements * t)..]);
        }
        return e;
    }

    /// <summary>The AIR (throws <see cref="AirDefinitionException"/> for a statement it refuses, such as a wrong batch commitment) and the trace.</summary>
    public static (TransferAir Air, ulong[][] Trace) Build(BatchWitness witness, RollupHasher? hasher = null)
    {
        hasher ??= RollupHasher.Shared;
        var air = new TransferAir(PublicInputs(witness));
        var s = air.Statement;
        var trace = new ulong[TransferAir.Width][];
        for (var c = 0; c < trace.Length; c++)
        {
            trace[c] = new ulong[air.TraceLength];
        }
        var state = new BlockState();
        UInt128 tips = 0;
        var feeRecipient = witness.Parameters.FeeRecipient;
        for (var region = 0; region < air.Regions; region++)
        {
            var start = region * TransferAir.RegionRows;
            var pub = TransferAir.RegionPublicValues(s, region);
            Account senderOld, senderNew, receiverOld, receiverNew;
            MerklePath senderPath, receiverPath;
            bool applied, eq, suf;
            ulong inv = 0;
            UInt128 cost = 0, costMinus1 = 0;
            UInt128 tip = 0;
            if (region < s.Count)
            {
                var w = witness.Transfers[region];
                var terms = s.Terms(region);
                senderOld = w.Sender.Before;
                senderPath = w.Sender.Path;
                applied = w.Status == TransferStatus.Applied;
                eq = senderOld.Nonce == terms.Nonce;
                if (!eq)
                {
                    inv = Goldilocks.Inverse(Goldilocks.Sub(Canonical(senderOld.Nonce), terms.Nonce));
                }
                cost = terms.Cost;
                costMinus1 = TransferStatement.Amount(pub, TransferAir.CostMinus1 - TransferAir.From);
                suf = applied || (terms.CostFits && senderOld.Balance >= terms.Cost);
                tip = terms.Tip;
                senderNew = applied ? new Account(senderOld.Balance - terms.Debit, senderOld.Nonce + 1) : senderOld;
                if (applied)
                {
                    if (w.Receiver is null)
                    {
                        throw new TransferWitnessException($"transfer {region} is declared applied but has no receiver opening");
                    }
                    receiverOld = w.Receiver.Before;
                    receiverPath = w.Receiver.Path;
                    receiverNew = receiverOld with { Balance = receiverOld.Balance + terms.Value };
                }
                else
                {
                    // A skipped transfer's second block re-opens the (unchanged) sender.
                    receiverOld = senderNew;
                    receiverPath = senderPath;
                    receiverNew = senderNew;
                }
            }
            else
            {
                // The fee region credits the declared tips; padding re-opens the fee recipient without change.
                var opening = witness.FeeRecipient.Opening;
                applied = false;
                eq = opening.Before.Nonce == 0;
                inv = eq ? 0 : Goldilocks.Inverse(Canonical(opening.Before.Nonce));
                suf = true;
                senderOld = senderNew = receiverOld = opening.Before;
                senderPath = receiverPath = opening.Path;
                receiverNew = region == s.Count ? opening.Before with { Balance = opening.Before.Balance + witness.FeeRecipient.Tips } : opening.Before;
                if (region > s.Count)
                {
                    // Padding after the fee region: the recipient as it stands after being paid.
                    senderOld = senderNew = receiverOld = receiverNew = opening.Before with { Balance = opening.Before.Balance + witness.FeeRecipient.Tips };
                    senderPath = receiverPath = opening.Path;
                }
            }
            var tipsAfter = applied ? tips + tip : tips;

            // Region-constant columns.
            var fill = new ulong[TransferAir.Width - TransferAir.From];
            pub.CopyTo(fill, 0);
            void Put(int column, ulong value) => fill[column - TransferAir.From] = Canonical(value);
            void PutAmount(int column, UInt128 value)
            {
                for (var i = 0; i < 4; i++)
                {
                    Put(column + i, (ulong)(value >> (32 * i)) & uint.MaxValue);
                }
            }
            Put(TransferAir.Eq, eq ? 1UL : 0);
            Put(TransferAir.Inv, inv);
            Put(TransferAir.Suf, suf ? 1UL : 0);
            Put(TransferAir.Applied, applied ? 1UL : 0);
            PutAmount(TransferAir.Tips, tips);
            PutAmount(TransferAir.TipsAfter, tipsAfter);
            SetCarries(fill, TransferAir.TipsCarry - TransferAir.From, Limbs(tips), applied ? Limbs(tip) : new ulong[4], Limbs(tipsAfter), new ulong[4]);
            var oldLimbs = Limbs(senderOld.Balance);
            var a = suf ? oldLimbs : Limbs(costMinus1);
            var b = suf ? Limbs(cost) : oldLimbs;
            // margin = a - b with borrows.
            long borrow = 0;
            for (var i = 0; i < 4; i++)
            {
                var diff = (long)a[i] - (long)b[i] - borrow;
                borrow = diff < 0 ? 1 : 0;
                Put(TransferAir.Margin + i, (ulong)(diff + (borrow << 32)));
                if (i < 3)
                {
                    Put(TransferAir.MarginBorrow + i, (ulong)borrow);
                }
            }
            for (var r = 0; r < TransferAir.RegionRows; r++)
            {
                for (var c = 0; c < fill.Length; c++)
                {
                    trace[TransferAir.From + c][start + r] = fill[c];
                }
            }
            var marginLimbs = Enumerable.Range(0, 4).Select(i => fill[TransferAir.Margin - TransferAir.From + i]).ToArray();
            var tipsLimbs = Limbs(tipsAfter);

            var debit = region < s.Count && applied ? Limbs(s.Terms(region).Debit) : new ulong[4];
            var senderAddress = pub.AsSpan(0, 5).ToArray();
            var receiverAddress = applied ? pub.AsSpan(5, 5).ToArray() : senderAddress;
            var credit = region < s.Count ? (applied ? Limbs(s.Terms(region).Value) : new ulong[4]) : region == s.Count ? Limbs(tips) : new ulong[4];
            FillBlock(trace, start, senderAddress, senderOld, senderNew, senderPath, debit, new ulong[4], marginLimbs, tipsLimbs, true, state, hasher);
            FillBlock(trace, start + TransferAir.BlockRows, receiverAddress, receiverOld, receiverNew, receiverPath, new ulong[4], credit, marginLimbs, tipsLimbs, false, state, hasher);
            tips = tipsAfter;
        }
        return (air, trace);
    }

    private sealed class BlockState
    {
        public ulong[][] Tail = [new ulong[4], new ulong[4]];
        public ulong Acc;
        public ulong[]? Root;
    }

    private static ulong Canonical(ulong v) => v % Goldilocks.Modulus;

    private static ulong[] Limbs(UInt128 v)
    {
        var l = new ulong[4];
        TransferStatement.WriteAmount(v, l);
        return l;
    }

    private static ulong[] AccountElements(Account a) => [.. Limbs(a.Balance), Canonical(a.Nonce)];

    /// <summary>Carries of out = x + y - z limb by limb (z subtracted), into fill[offset..offset+2]; a carry out of limb 3 is left for the constraint to catch.</summary>
    private static void SetCarries(ulong[] fill, int offset, ulong[] x, ulong[] y, ulong[] outLimbs, ulong[] z)
    {
        long carry = 0;
        for (var i = 0; i < 3; i++)
        {
            var total = (long)x[i] + (long)y[i] - (long)z[i] + carry - (long)outLimbs[i];
            carry = total >> 32;
            fill[offset + i] = ToField(carry);
        }
    }

    private static ulong ToField(long v) => v >= 0 ? (ulong)v % Goldilocks.Modulus : Goldilocks.Neg((ulong)(-v));

    private static void FillBlock(ulong[][] trace, int blockStart, ulong[] address, Account oldAccount, Account newAccount, MerklePath path,
        ulong[] debit, ulong[] credit, ulong[] margin, ulong[] tipsAfter, bool isSender, BlockState state, RollupHasher hasher)
    {
        const int cycleRows = TransferAir.CycleRows;
        var accounts = new[] { AccountElements(oldAccount), AccountElements(newAccount) };
        var siblings = path.ToArray();
        var nodes = new ulong[2][];
        var roots = new ulong[2][];
        var acc = state.Acc;
        var input = new ulong[8];
        for (var cycle = 0; cycle < TransferAir.BlockCycles; cycle++)
        {
            var start = blockStart + cycle * cycleRows;
            var level = cycle - 1;
            ulong b = 0;
            var sibling = new ulong[4];
            if (level >= 0)
            {
                if (level < TransferAir.Depth)
                {
                    b = (address[level / 32] >> (level % 32)) & 1;
                    siblings[level].CopyTo(sibling);
                }
                acc = level % 32 == 0 ? b : acc + (b << (level % 32));
            }
            for (var r = 0; r < cycleRows; r++)
            {
                for (var i = 0; i < 4; i++)
                {
                    trace[TransferAir.B0 + i][start + r] = sibling[i];
                }
                trace[TransferAir.Bit][start + r] = b;
                trace[TransferAir.Acc][start + r] = acc;
            }
            for (var lane = 0; lane < 2; lane++)
            {
                var node = level < 0 ? state.Tail[lane] : nodes[lane];
                for (var i = 0; i < 4; i++)
                {
                    input[i] = b == 0 ? node[i] : sibling[i];
                    input[4 + i] = b == 0 ? sibling[i] : node[i];
                }
                var s0 = TransferAir.S0(lane);
                Poseidon2Gadget.FillPermutation(trace, [.. Enumerable.Range(s0, 8)], start, input);
                for (var r = 0; r < cycleRows; r++)
                {
                    for (var i = 0; i < 4; i++)
                    {
                        trace[TransferAir.N0(lane) + i][start + r] = node[i];
                    }
                }
                for (var c = 0; c < 8; c++)
                {
                    trace[s0 + c][start + cycleRows - 1] = trace[s0 + c][start + cycleRows - 2];
                }
                var q0 = TransferAir.Q0(lane);
                ulong[] sponge = [1, .. accounts[lane], 0, 0, 6, 0, 0, 0];
                Poseidon2Gadget.FillPermutation(trace, [.. Enumerable.Range(q0, 12)], start, sponge);
                for (var c = 0; c < 12; c++)
                {
                    trace[q0 + c][start + cycleRows - 1] = trace[q0 + c][start + cycleRows - 2];
                }
                for (var r = 0; r < cycleRows; r++)
                {
                    for (var i = 0; i < 5; i++)
                    {
                        trace[TransferAir.A0(lane) + i][start + r] = accounts[lane][i];
                    }
                }
                var output = new ulong[4];
                for (var i = 0; i < 4; i++)
                {
                    output[i] = level < 0 ? trace[q0 + i][start + cycleRows - 2] : trace[s0 + i][start + cycleRows - 2];
                }
                nodes[lane] = output;
                if (level == TransferAir.Depth - 1)
                {
                    roots[lane] = output;
                }
            }
        }
        for (var lane = 0; lane < 2; lane++)
        {
            // The last padding cycle's output feeds the next block's leaf-cycle node (row 31 -> row 0).
            state.Tail[lane] = trace.Skip(TransferAir.S0(lane)).Take(4).Select(col => col[blockStart + TransferAir.BlockRows - 1]).ToArray();
        }
        state.Acc = acc;
        _ = hasher;

        // Block-constant columns: roots and balance carries.
        var oldLimbs = accounts[0];
        var newLimbs = accounts[1];
        var carries = new ulong[3];
        long carry = 0;
        for (var i = 0; i < 3; i++)
        {
            var total = (long)oldLimbs[i] + (long)credit[i] + carry - (long)newLimbs[i] - (long)debit[i];
            carry = total >> 32;
            carries[i] = ToField(carry);
        }
        var rangeTargets = new ulong[TransferAir.RangeLimbs];
        for (var i = 0; i < 4; i++)
        {
            rangeTargets[i] = newLimbs[i];
            rangeTargets[4 + i] = margin[i];
            rangeTargets[8 + i] = tipsAfter[i];
        }
        for (var r = 0; r < TransferAir.BlockRows; r++)
        {
            var row = blockStart + r;
            for (var i = 0; i < 4; i++)
            {
                trace[TransferAir.OldRoot + i][row] = roots[0][i];
                trace[TransferAir.NewRoot + i][row] = roots[1][i];
            }
            for (var i = 0; i < 3; i++)
            {
                trace[TransferAir.BalanceCarry + i][row] = carries[i];
            }
            trace[TransferAir.Side][row] = isSender ? 1UL : 0;
            var windowRow = r % TransferAir.RangePeriod;
            if (windowRow < 32 * TransferAir.RangeLimbs)
            {
                var k = windowRow / 32;
                var j = windowRow % 32;
                var limb = rangeTargets[k];
                trace[TransferAir.RangeBit][row] = (limb >> j) & 1;
                trace[TransferAir.RangeAcc][row] = limb & (j == 31 ? 0xFFFF_FFFFUL : (1UL << (j + 1)) - 1);
            }
        }
        state.Root = roots[1];
    }
}
