using Keel.Core.Field;
using Keel.Core.Hashing;
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
        var e = new ulong[TransferStatement.Elements];
        Span<ulong> s = e;
        FieldEncoding.WriteU64(p.ChainId, s);
        witness.PreStateRoot.CopyTo(s[2..]);
        witness.PostStateRoot.CopyTo(s[6..]);
        witness.BatchCommitment.CopyTo(s[10..]);
        e[14] = (ulong)witness.Transfers.Count;
        FieldEncoding.WriteAmount(p.BaseFeePerGas, s[15..]);
        FieldEncoding.WriteAddress(p.FeeRecipient, s[19..]);
        return e;
    }

    /// <summary>The AIR (throws <see cref="AirDefinitionException"/> for a statement it refuses) and the trace.</summary>
    public static (TransferAir Air, ulong[][] Trace) Build(BatchWitness witness)
    {
        var air = new TransferAir(PublicInputs(witness));
        var s = air.Statement;
        var trace = new ulong[air.Width][];
        for (var c = 0; c < trace.Length; c++)
        {
            trace[c] = new ulong[air.TraceLength];
        }
        var carried = new Carried { Sponge = s.HeaderSpongeState() };
        UInt128 tips = 0;
        var baseFee = witness.Parameters.BaseFeePerGas;
        var regionWidth = TransferAir.Fee + air.FeeTerms.Columns - TransferAir.RegionFirst;
        var scratch = new ulong[air.Width][];
        for (var c = 0; c < scratch.Length; c++)
        {
            scratch[c] = new ulong[1];
        }
        for (var region = 0; region < air.Regions; region++)
        {
            var start = TransferAir.RegionStart(region);
            var length = TransferAir.RegionLength(region);
            Account senderOld, senderNew, receiverOld, receiverNew;
            MerklePath senderPath, receiverPath;
            bool applied, eq, suf;
            ulong inv = 0;
            TransferTerms terms;
            ulong[] tx = new ulong[24];
            if (region < s.Count)
            {
                var w = witness.Transfers[region];
                BatchCommitment.Encode(w.Transfer, tx);
                terms = s.Terms(w.Transfer);
                senderOld = w.Sender.Before;
                senderPath = w.Sender.Path;
                applied = w.Status == TransferStatus.Applied;
                suf = applied || (terms.CostFits && senderOld.Balance >= terms.Cost);
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
                    // A skipped transfer's receiver block re-opens the (unchanged) sender.
                    receiverOld = senderNew;
                    receiverPath = senderPath;
                    receiverNew = senderNew;
                }
            }
            else
            {
                // The fee region credits the declared tips; padding re-opens the fee recipient without change.
                FieldEncoding.WriteAddress(witness.Parameters.FeeRecipient, tx);
                FieldEncoding.WriteAddress(witness.Parameters.FeeRecipient, tx.AsSpan(5));
                terms = new TransferTerms(0, 0, 0, true, baseFee == 0, 0, 0);
                var opening = witness.FeeRecipient.Opening;
                applied = false;
                suf = true;
                senderOld = senderNew = receiverOld = opening.Before;
                senderPath = receiverPath = opening.Path;
                receiverNew = region == s.Count ? opening.Before with { Balance = opening.Before.Balance + witness.FeeRecipient.Tips } : opening.Before;
                if (region > s.Count)
                {
                    senderOld = senderNew = receiverOld = receiverNew = opening.Before with { Balance = opening.Before.Balance + witness.FeeRecipient.Tips };
                }
            }
            eq = senderOld.Nonce == tx[14];
            if (!eq)
            {
                inv = Goldilocks.Inverse(Goldilocks.Sub(Canonical(senderOld.Nonce), tx[14]));
            }
            var tipsAfter = applied ? tips + terms.Tip : tips;

            // Region-constant columns, written once into `reg` and copied down the region.
            var reg = new ulong[regionWidth];
            void Put(int column, ulong value) => reg[column - TransferAir.RegionFirst] = Canonical(value);
            void PutLimbs(int column, ReadOnlySpan<ulong> limbs)
            {
                for (var i = 0; i < limbs.Length; i++)
                {
                    Put(column + i, limbs[i]);
                }
            }
            PutLimbs(TransferAir.From, tx.AsSpan(0, 23));
            var remaining = region < s.Count ? (ulong)(s.Count - region) : 0;
            Put(TransferAir.Rem, remaining);
            Put(TransferAir.RemInv, remaining == 0 ? 0 : Goldilocks.Inverse(remaining));
            Put(TransferAir.IsTx, region < s.Count ? 1UL : 0);
            Put(TransferAir.IsFee, region == s.Count ? 1UL : 0);
            Put(TransferAir.Eq, eq ? 1UL : 0);
            Put(TransferAir.Inv, inv);
            Put(TransferAir.Suf, suf ? 1UL : 0);
            Put(TransferAir.Applied, applied ? 1UL : 0);
            PutLimbs(TransferAir.Tips, Limbs(tips));
            PutLimbs(TransferAir.TipsAfter, Limbs(tipsAfter));
            var tipCarries = Carries(Limbs(tips), applied ? Limbs(terms.Tip) : new ulong[4], Limbs(tipsAfter), new ulong[4]);
            PutLimbs(TransferAir.TipsCarry, tipCarries);
            var oldLimbs = Limbs(senderOld.Balance);
            ulong[] a, b;
            long borrow;
            if (suf)
            {
                (a, b, borrow) = (oldLimbs, Limbs(terms.Cost), 0);
            }
            else if (terms.CostFits)
            {
                (a, b, borrow) = (Limbs(terms.Cost), oldLimbs, 1);
            }
            else
            {
                (a, b, borrow) = (Limbs(UInt128.MaxValue), oldLimbs, 0);
            }
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
            var txValue = TransferStatement.Amount(tx, 10);
            var txMaxFee = TransferStatement.Amount(tx, 15);
            var txPrio = TransferStatement.Amount(tx, 19);
            air.FeeTerms.Fill(scratch, 0, txValue, txMaxFee, txPrio, baseFee);
            for (var c = TransferAir.Fee; c < TransferAir.Fee + air.FeeTerms.Columns; c++)
            {
                reg[c - TransferAir.RegionFirst] = scratch[c][0];
            }
            for (var c = 0; c < regionWidth; c++)
            {
                Array.Fill(trace[TransferAir.RegionFirst + c], reg[c], start, length);
            }

            var debit = applied ? Limbs(terms.Debit) : new ulong[4];
            var senderAddress = tx.AsSpan(0, 5).ToArray();
            var receiverAddress = applied ? tx.AsSpan(5, 5).ToArray() : senderAddress;
            var credit = region < s.Count ? (applied ? Limbs(terms.Value) : new ulong[4]) : region == s.Count ? Limbs(tips) : new ulong[4];
            FillBlock(trace, start, TransferAir.BlockRows, senderAddress, senderOld, senderNew, senderPath, debit, new ulong[4]);
            FillBlock(trace, start + TransferAir.BlockRows, length - TransferAir.BlockRows, receiverAddress, receiverOld, receiverNew, receiverPath, new ulong[4], credit);
            FillSponge(trace, start, length, tx, carried);
            tips = tipsAfter;
        }
        for (var period = 0; period < air.Periods; period++)
        {
            air.Range.Fill(trace, period * TransferAir.PeriodRows);
        }
        return (air, trace);
    }

    private sealed class Carried
    {
        public required ulong[] Sponge;
    }

    private static ulong Canonical(ulong v) => v % Goldilocks.Modulus;

    private static ulong[] Limbs(UInt128 v)
    {
        var l = new ulong[4];
        FieldEncoding.WriteAmount(v, l);
        return l;
    }

    /// <summary>Carries of out = x + y - z limb by limb, as field elements (a carry out of limb 3 is left for the constraint to catch).</summary>
    private static ulong[] Carries(ulong[] x, ulong[] y, ulong[] outLimbs, ulong[] z)
    {
        var carries = new ulong[3];
        long carry = 0;
        for (var i = 0; i < 3; i++)
        {
            var total = (long)x[i] + (long)y[i] - (long)z[i] + carry - (long)outLimbs[i];
            carry = total >> 32;
            carries[i] = ToField(carry);
        }
        return carries;
    }

    private static ulong ToField(long v) => v >= 0 ? (ulong)v % Goldilocks.Modulus : Goldilocks.Neg((ulong)(-v));

    private static ulong[] LeafInput(Account account) =>
        Transfer.LeafPreimage.Of<ulong>([.. Limbs(account.Balance), Canonical(account.Nonce)], v => v);

    private static void FillBlock(ulong[][] trace, int blockStart, int blockLength, ulong[] address, Account oldAccount, Account newAccount, MerklePath path,
        ulong[] debit, ulong[] credit)
    {
        var wide = TransferAir.Wide;
        var narrow = TransferAir.Narrow;
        Span<ulong> output = stackalloc ulong[12];
        Span<ulong> output8 = stackalloc ulong[8];
        Span<ulong> input = stackalloc ulong[8];

        // The leaf row: lane L hashes the old account, lane R the new one.
        var leafRow = blockStart + TransferAir.LeafRow;
        wide.Fill(trace, leafRow, TransferAir.LaneL, LeafInput(oldAccount), output);
        var nodeL = output[..4].ToArray();
        wide.Fill(trace, leafRow, TransferAir.LaneR, LeafInput(newAccount), output);
        var nodeR = output[..4].ToArray();

        var siblings = path.ToArray();
        ulong acc = 0;
        for (var level = 0; level < TransferAir.Depth; level++)
        {
            var slot = level % TransferAir.LevelsPerRow;
            var row = blockStart + TransferAir.FirstLevelRow + level / TransferAir.LevelsPerRow;
            var bit = (address[level / 32] >> (level % 32)) & 1;
            // Acc after the row: the limb's bits so far (a row's four bits are one nibble of it).
            acc = level % 32 == 0 ? bit : acc + (bit << (level % 32));
            trace[TransferAir.Bit + slot][row] = bit;
            trace[TransferAir.Acc][row] = acc;
            var sibling = siblings[level];
            for (var i = 0; i < 4; i++)
            {
                trace[TransferAir.Sib + 4 * slot + i][row] = sibling[i];
            }
            for (var lane = 0; lane < 2; lane++)
            {
                var node = lane == 0 ? nodeL : nodeR;
                for (var i = 0; i < 4; i++)
                {
                    input[i] = bit == 0 ? node[i] : sibling[i];
                    input[4 + i] = bit == 0 ? sibling[i] : node[i];
                }
                narrow.Fill(trace, row, TransferAir.Slot(lane == 0 ? TransferAir.LaneL : TransferAir.LaneR, slot), input, output8);
                output8[..4].CopyTo(node);
            }
        }

        // Block-constant columns: accounts, roots, balance carries.
        var oldElements = (ulong[])[.. Limbs(oldAccount.Balance), Canonical(oldAccount.Nonce)];
        var newElements = (ulong[])[.. Limbs(newAccount.Balance), Canonical(newAccount.Nonce)];
        var balanceCarries = Carries(oldElements[..4], credit, newElements[..4], debit);
        void Block(int column, ulong value) => Array.Fill(trace[column], value, blockStart, blockLength);
        for (var i = 0; i < 5; i++)
        {
            Block(TransferAir.OldAcc + i, oldElements[i]);
            Block(TransferAir.NewAcc + i, newElements[i]);
        }
        for (var i = 0; i < 4; i++)
        {
            Block(TransferAir.OldRoot + i, nodeL[i]);
            Block(TransferAir.NewRoot + i, nodeR[i]);
        }
        for (var i = 0; i < 3; i++)
        {
            Block(TransferAir.BalanceCarry + i, balanceCarries[i]);
        }
    }

    /// <summary>The sender block's sponge rows: three blocks of the region's transfer absorbed into the carried state.</summary>
    private static void FillSponge(ulong[][] trace, int regionStart, int regionLength, ulong[] tx, Carried carried)
    {
        var state = (ulong[])carried.Sponge.Clone();
        Span<ulong> output = stackalloc ulong[12];
        for (var k = 0; k < TransferAir.SpongeRows; k++)
        {
            for (var i = 0; i < Poseidon2.SpongeRate; i++)
            {
                state[i] = Goldilocks.Add(state[i], tx[8 * k + i]);
            }
            TransferAir.Wide.Fill(trace, regionStart + TransferAir.SpongeRow + k, TransferAir.LaneL, state, output);
            output.CopyTo(state);
        }
        var digestRow = TransferAir.SpongeRow + TransferAir.SpongeRows;
        for (var j = 0; j < 12; j++)
        {
            Array.Fill(trace[TransferAir.Sp + j], carried.Sponge[j], regionStart, digestRow);
            Array.Fill(trace[TransferAir.Sp + j], state[j], regionStart + digestRow, regionLength - digestRow);
        }
        carried.Sponge = state;
    }
}
