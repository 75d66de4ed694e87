using System.Buffers;
using System.Buffers.Binary;
using Keel.Consensus.Model;
using Keel.Core;

namespace Keel.Consensus.Codec;

/// <summary>
/// The wire form of consensus messages: version byte, type byte, then fields big-endian with explicit
/// lengths. Decoding takes bytes from an untrusted peer: every length is bounded before anything is
/// allocated, trailing bytes are refused, and any malformed input ends in
/// <see cref="InvalidConsensusMessageException"/>, never another exception.
/// </summary>
public static class ConsensusCodec
{
    public const byte Version = 1;

    /// <summary>Longest signature accepted (65 for recoverable secp256k1; the simulator's are 32).</summary>
    public const int MaxSignatureBytes = 65;

    public static byte[] Encode(ConsensusMessage message)
    {
        var writer = new ArrayBufferWriter<byte>(message is ProposalMessage p ? p.Block.Payload.Length + 1024 : 512);
        var w = new Writer(writer);
        w.U8(Version);
        w.U8((byte)message.Type);
        switch (message)
        {
            case ProposalMessage m:
                WriteBlock(ref w, m.Block);
                WriteQc(ref w, m.HighQc);
                WriteOptionalTc(ref w, m.LastRoundTc);
                w.Bytes8(m.Signature);
                break;
            case VoteMessage m:
                w.I64(m.Round);
                w.Raw(m.BlockHash.Bytes);
                w.U16((ushort)m.Voter);
                w.Bytes8(m.Signature);
                break;
            case TimeoutMessage m:
                w.I64(m.Round);
                WriteQc(ref w, m.HighQc);
                WriteOptionalTc(ref w, m.LastRoundTc);
                w.U16((ushort)m.Signer);
                w.Bytes8(m.Signature);
                break;
            case SyncInfoMessage m:
                WriteQc(ref w, m.HighQc);
                WriteOptionalTc(ref w, m.HighTc);
                break;
            case BlockRequestMessage m:
                w.Raw(m.Target.Bytes);
                w.I64(m.KnownHeight);
                w.U16((ushort)Math.Clamp(m.MaxBlocks, 0, ushort.MaxValue));
                break;
            case BlockResponseMessage m:
                w.U16((ushort)m.Blocks.Count);
                foreach (var (block, cert) in m.Blocks)
                {
                    WriteBlock(ref w, block);
                    WriteQc(ref w, cert);
                }
                break;
            default:
                throw new InvalidConsensusMessageException($"cannot encode {message.GetType().Name}");
        }
        if (writer.WrittenCount > ConsensusLimits.MaxMessageBytes)
        {
            throw new InvalidConsensusMessageException($"message of {writer.WrittenCount} bytes exceeds MaxMessageBytes {ConsensusLimits.MaxMessageBytes}");
        }
        return writer.WrittenSpan.ToArray();
    }

    /// <exception cref="InvalidConsensusMessageException">the bytes are not one well-formed message</exception>
    public static ConsensusMessage Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > ConsensusLimits.MaxMessageBytes)
        {
            throw new InvalidConsensusMessageException($"message of {bytes.Length} bytes exceeds MaxMessageBytes {ConsensusLimits.MaxMessageBytes}");
        }
        var r = new Reader(bytes);
        var version = r.U8();
        if (version != Version)
        {
            throw new InvalidConsensusMessageException($"unknown codec version {version}");
        }
        var type = (MessageType)r.U8();
        ConsensusMessage message = type switch
        {
            MessageType.Proposal => new ProposalMessage(ReadBlock(ref r), ReadQc(ref r), ReadOptionalTc(ref r), r.Bytes8(MaxSignatureBytes)),
            MessageType.Vote => new VoteMessage(r.I64(), r.Hash(), r.U16(), r.Bytes8(MaxSignatureBytes)),
            MessageType.Timeout => new TimeoutMessage(r.I64(), ReadQc(ref r), ReadOptionalTc(ref r), r.U16(), r.Bytes8(MaxSignatureBytes)),
            MessageType.SyncInfo => new SyncInfoMessage(ReadQc(ref r), ReadOptionalTc(ref r)),
            MessageType.BlockRequest => new BlockRequestMessage(r.Hash(), r.I64(), r.U16()),
            MessageType.BlockResponse => ReadResponse(ref r),
            _ => throw new InvalidConsensusMessageException($"unknown message type {(byte)type}"),
        };
        if (!r.AtEnd)
        {
            throw new InvalidConsensusMessageException("trailing bytes after the message");
        }
        return message;
    }

    private static BlockResponseMessage ReadResponse(ref Reader r)
    {
        var count = r.U16();
        if (count > ConsensusLimits.MaxSyncBlocks)
        {
            throw new InvalidConsensusMessageException($"{count} blocks exceed MaxSyncBlocks {ConsensusLimits.MaxSyncBlocks}");
        }
        var blocks = new List<CertifiedBlock>(count);
        for (var i = 0; i < count; i++)
        {
            blocks.Add(new CertifiedBlock(ReadBlock(ref r), ReadQc(ref r)));
        }
        return new BlockResponseMessage(blocks);
    }

    private static void WriteBlock(ref Writer w, Block block)
    {
        w.I64(block.Height);
        w.I64(block.Round);
        w.Raw(block.ParentHash.Bytes);
        w.I64(block.TimestampMs);
        w.Raw(block.Proposer.Bytes);
        w.Bytes32(block.AppHeader);
        w.Bytes32(block.Payload);
    }

    private static Block ReadBlock(ref Reader r)
    {
        var height = r.I64();
        var round = r.I64();
        var parent = r.Hash();
        var timestamp = r.I64();
        var proposer = Address.FromBytes(r.Raw(Address.Size));
        var appHeader = r.Span32(ConsensusLimits.MaxAppHeaderBytes);
        var payload = r.Span32(ConsensusLimits.MaxPayloadBytes);
        // The constructor re-checks ranges and computes the hash from the fields: a peer cannot
        // send a block whose hash disagrees with its content.
        return new Block(height, round, parent, timestamp, proposer, appHeader, payload);
    }

    private static void WriteQc(ref Writer w, QuorumCertificate qc)
    {
        w.I64(qc.Round);
        w.Raw(qc.BlockHash.Bytes);
        w.Bytes16(qc.SignerBitmap);
        w.U16((ushort)qc.Signatures.Count);
        foreach (var s in qc.Signatures)
        {
            w.Bytes8(s);
        }
    }

    private static QuorumCertificate ReadQc(ref Reader r)
    {
        var round = r.I64();
        var hash = r.Hash();
        var bitmap = r.Bytes16(ConsensusLimits.MaxValidators / 8);
        var count = r.U16();
        if (count > ConsensusLimits.MaxValidators)
        {
            throw new InvalidConsensusMessageException($"{count} signatures exceed MaxValidators");
        }
        var sigs = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            sigs.Add(r.Bytes8(MaxSignatureBytes));
        }
        return new QuorumCertificate(round, hash, bitmap, sigs);
    }

    private static void WriteOptionalTc(ref Writer w, TimeoutCertificate? tc)
    {
        if (tc is null)
        {
            w.U8(0);
            return;
        }
        w.U8(1);
        w.I64(tc.Round);
        w.Bytes16(tc.SignerBitmap);
        w.U16((ushort)tc.Signatures.Count);
        for (var i = 0; i < tc.Signatures.Count; i++)
        {
            w.I64(tc.HighQcRounds[i]);
            w.Bytes8(tc.Signatures[i]);
        }
    }

    private static TimeoutCertificate? ReadOptionalTc(ref Reader r)
    {
        var present = r.U8();
        if (present == 0)
        {
            return null;
        }
        if (present != 1)
        {
            throw new InvalidConsensusMessageException("bad optional-TC flag");
        }
        var round = r.I64();
        var bitmap = r.Bytes16(ConsensusLimits.MaxValidators / 8);
        var count = r.U16();
        if (count > ConsensusLimits.MaxValidators)
        {
            throw new InvalidConsensusMessageException($"{count} signatures exceed MaxValidators");
        }
        var rounds = new List<long>(count);
        var sigs = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            rounds.Add(r.I64());
            sigs.Add(r.Bytes8(MaxSignatureBytes));
        }
        return new TimeoutCertificate(round, bitmap, rounds, sigs);
    }

    private ref struct Writer(ArrayBufferWriter<byte> output)
    {
        public readonly void U8(byte value)
        {
            output.GetSpan(1)[0] = value;
            output.Advance(1);
        }

        public readonly void U16(ushort value)
        {
            BinaryPrimitives.WriteUInt16BigEndian(output.GetSpan(2), value);
            output.Advance(2);
        }

        public readonly void I64(long value)
        {
            BinaryPrimitives.WriteInt64BigEndian(output.GetSpan(8), value);
            output.Advance(8);
        }

        public readonly void Raw(ReadOnlySpan<byte> bytes) => output.Write(bytes);

        public readonly void Bytes8(ReadOnlySpan<byte> bytes)
        {
            U8(checked((byte)bytes.Length));
            Raw(bytes);
        }

        public readonly void Bytes16(ReadOnlySpan<byte> bytes)
        {
            U16(checked((ushort)bytes.Length));
            Raw(bytes);
        }

        public readonly void Bytes32(ReadOnlySpan<byte> bytes)
        {
            BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(4), (uint)bytes.Length);
            output.Advance(4);
            Raw(bytes);
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> input)
    {
        private readonly ReadOnlySpan<byte> _input = input;
        private int _position;

        public readonly bool AtEnd => _position == _input.Length;

        public ReadOnlySpan<byte> Raw(int length)
        {
            if (length < 0 || _input.Length - _position < length)
            {
                throw new InvalidConsensusMessageException("message truncated");
            }
            var span = _input.Slice(_position, length);
            _position += length;
            return span;
        }

        public byte U8() => Raw(1)[0];

        public ushort U16() => BinaryPrimitives.ReadUInt16BigEndian(Raw(2));

        public long I64()
        {
            var value = BinaryPrimitives.ReadInt64BigEndian(Raw(8));
            if (value < 0)
            {
                throw new InvalidConsensusMessageException("negative round, height or timestamp");
            }
            return value;
        }

        public Hash32 Hash() => Hash32.FromBytes(Raw(Hash32.Size));

        public byte[] Bytes8(int max)
        {
            var length = U8();
            if (length > max)
            {
                throw new InvalidConsensusMessageException($"field of {length} bytes exceeds {max}");
            }
            return Raw(length).ToArray();
        }

        public byte[] Bytes16(int max)
        {
            var length = U16();
            if (length > max)
            {
                throw new InvalidConsensusMessageException($"field of {length} bytes exceeds {max}");
            }
            return Raw(length).ToArray();
        }

        public ReadOnlySpan<byte> Span32(int max)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(Raw(4));
            if (length > (uint)max)
            {
                throw new InvalidConsensusMessageException($"field of {length} bytes exceeds {max}");
            }
            return Raw((int)length);
        }
    }
}
