import CRiadTender
import Foundation
import Glibc
import RiadABI
import Synchronization
import XCTest

@testable import RiadTender

/// The tender's side of the net ring (NetRing.process) against a guest
/// played by the test: entries and indices written into the ring's
/// reserved memory as riad_hvt_ring.h lays them out, and a network device
/// whose far end is a socket the test reads and writes, as the host's
/// network would.
final class NetRingTests: XCTestCase {
    /// The frames `count` writes carry: each different, its number in it.
    private func frames(_ count: Int, from first: Int = 0, length: (Int) -> Int = { 60 + $0 % 68 })
        -> [[UInt8]]
    {
        (first..<first + count).map { testFrame(number: $0, length: length($0)) }
    }

    // MARK: The layout

    func testLayoutMatchesTheHeader() {
        XCTAssertEqual(MemoryLayout<riad_hvt_ring_entry>.size, 32)
        XCTAssertEqual(MemoryLayout<riad_hvt_ring_commit>.size, 16)
        XCTAssertEqual(MemoryLayout<riad_hvt_ring>.offset(of: \.ent_tail), RingOffset.entryTail)
        XCTAssertEqual(MemoryLayout<riad_hvt_ring>.offset(of: \.com_head), RingOffset.commitHead)
        XCTAssertEqual(MemoryLayout<riad_hvt_ring>.offset(of: \.ent_head), RingOffset.entryHead)
        XCTAssertEqual(MemoryLayout<riad_hvt_ring>.offset(of: \.com_tail), RingOffset.commitTail)
        XCTAssertEqual(MemoryLayout<riad_hvt_ring>.offset(of: \.needs_kick), RingOffset.needsKick)
        XCTAssertEqual(MemoryLayout<riad_hvt_ring>.offset(of: \.entries), RingOffset.entries)
        XCTAssertEqual(MemoryLayout<riad_hvt_ring>.offset(of: \.commits), RingOffset.commits)
        XCTAssertLessThanOrEqual(UInt64(MemoryLayout<riad_hvt_ring>.size), NetRing.reservation)
    }

    // MARK: A well-behaved guest

    func testAnEmptyRingTakesNothing() throws {
        let guest = try RingGuest()
        let before = guest.snapshot()
        XCTAssertEqual(try guest.ring.process(), 0)
        XCTAssertEqual(try guest.ring.process(), 0)
        XCTAssertEqual(guest.entryHead, 0)
        XCTAssertEqual(guest.commitTail, 0)
        XCTAssertEqual(guest.needsKick, 0)
        XCTAssertTrue(guest.peerReceive().isEmpty)
        XCTAssertTrue(guest.unchanged(since: before))
    }

    func testWritesArriveInOrderWithTheirBytes() throws {
        let guest = try RingGuest()
        // The smallest and the largest frames allowed, and some between;
        // the lowest address the tender may read a frame from.
        let sent = frames(6) { [14, 60, 1514, 15, 1513, 600][$0] }
        var addresses = sent.map { guest.place($0) }
        addresses[0] = 0x10000
        guest.poke(sent[0], at: addresses[0])
        for (frame, address) in zip(sent, addresses) {
            guest.post(.write, data: address, length: frame.count, id: 0xdead)
        }
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 6)
        XCTAssertEqual(guest.peerReceive(), sent)
        XCTAssertEqual(guest.entryHead, 6)
        // A write has no completion.
        XCTAssertEqual(guest.commitTail, 0)
        XCTAssertEqual(guest.statistics.value(.ringFramesSent), 6)
        XCTAssertEqual(guest.statistics.value(.ringBytesSent), UInt64(sent.map(\.count).reduce(0, +)))
        XCTAssertEqual(guest.statistics.value(.ringFramesReceived), 0)
    }

    func testReadsReturnTheFramesWaitingWithTheirIds() throws {
        let guest = try RingGuest()
        let waiting = frames(3) { [1514, 14, 333][$0] }
        for frame in waiting { guest.peerSend(frame) }
        // Four reads, the first at the lowest address the tender may
        // write; the fourth finds nothing.
        var buffers = (0..<4).map { _ in guest.allocate(1514) }
        buffers[0] = 0x100000
        for buffer in buffers { guest.fill(buffer, count: 1514, with: 0xa5) }
        for (index, buffer) in buffers.enumerated() {
            guest.post(.read, data: buffer, length: 1514, id: 100 + UInt32(index))
        }
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 4)
        XCTAssertEqual(guest.entryHead, 4)
        let completions = guest.takeCompletions()
        XCTAssertEqual(completions.map(\.id), [100, 101, 102, 103])
        XCTAssertEqual(completions.map(\.ret), [0, 0, 0, Int32(RIAD_HVT_R_AGAIN.rawValue)])
        XCTAssertEqual(completions.map(\.len), [1514, 14, 333, 0])
        for (index, frame) in waiting.enumerated() {
            XCTAssertEqual(guest.peek(buffers[index], count: frame.count), frame)
            // Not a byte past the frame.
            XCTAssertEqual(
                guest.peek(buffers[index] + UInt64(frame.count), count: 1514 - frame.count),
                [UInt8](repeating: 0xa5, count: 1514 - frame.count))
        }
        XCTAssertEqual(guest.peek(buffers[3], count: 1514), [UInt8](repeating: 0xa5, count: 1514))
        XCTAssertEqual(guest.statistics.value(.ringFramesReceived), 3)
        XCTAssertEqual(guest.statistics.value(.ringBytesReceived), 1514 + 14 + 333)
        XCTAssertEqual(guest.statistics.value(.ringEmptyReads), 1)
        XCTAssertTrue(guest.peerReceive().isEmpty)
    }

    /// 1023 entries, the most the kernel may have outstanding, published
    /// at once: a third of them writes, the rest reads of which 200 find a
    /// frame.
    func testAFullRing() throws {
        let guest = try RingGuest()
        let outgoing = frames(341)
        let incoming = frames(200, from: 10_000)
        for frame in incoming { guest.peerSend(frame) }
        var reads: [(buffer: UInt64, id: UInt32)] = []
        var written = 0
        for index in 0..<1023 {
            if index % 3 == 0 {
                let frame = outgoing[written]
                guest.post(.write, data: guest.place(frame), length: frame.count, id: 0)
                written += 1
            } else {
                let read = (buffer: guest.allocate(1514), id: UInt32(50_000 + index))
                guest.post(.read, data: read.buffer, length: 1514, id: read.id)
                reads.append(read)
            }
        }
        guest.publish()
        XCTAssertEqual(guest.tail, 1023)
        XCTAssertEqual(try guest.ring.process(), 1023)
        XCTAssertEqual(guest.entryHead, 1023)
        XCTAssertEqual(guest.peerReceive(), outgoing)
        let completions = guest.takeCompletions()
        XCTAssertEqual(completions.map(\.id), reads.map(\.id))
        XCTAssertEqual(completions.filter { $0.ret == 0 }.count, 200)
        XCTAssertEqual(completions.dropFirst(200).filter { $0.ret == RIAD_HVT_R_AGAIN.rawValue }.count, 482)
        for (index, frame) in incoming.enumerated() {
            XCTAssertEqual(completions[index].len, UInt32(frame.count))
            XCTAssertEqual(guest.peek(reads[index].buffer, count: frame.count), frame)
        }
        XCTAssertEqual(try guest.ring.process(), 0)
    }

    /// 8400 entries in batches of 700, so that the entries' slots wrap
    /// around eight times, and the completions' more than five, at a
    /// different slot each time: every frame
    /// arrives, in order and intact, and every read's answer is its own.
    func testIndicesWrapAroundTheRing() throws {
        let guest = try RingGuest()
        var sentNumber = 0
        var receivedNumber = 100_000
        var nextID: UInt32 = 0xffff_ff00  // the ids wrap too
        for batch in 0..<12 {
            guest.resetAllocation()
            let incoming = frames(150, from: receivedNumber) { 14 + $0 % 1501 }
            receivedNumber += 150
            for frame in incoming { guest.peerSend(frame) }
            var outgoing: [[UInt8]] = []
            var reads: [(buffer: UInt64, id: UInt32)] = []
            for index in 0..<700 {
                // A third writes (few enough for a socket's default
                // buffer), the rest reads.
                if (index + batch) % 3 == 0 {
                    let frame = testFrame(number: sentNumber, length: 14 + sentNumber % 301)
                    sentNumber += 1
                    guest.post(.write, data: guest.place(frame), length: frame.count, id: 0)
                    outgoing.append(frame)
                } else {
                    let read = (buffer: guest.allocate(1514), id: nextID)
                    nextID &+= 1
                    guest.post(.read, data: read.buffer, length: 1514, id: read.id)
                    reads.append(read)
                }
            }
            guest.publish()
            XCTAssertEqual(try guest.ring.process(), 700, "batch \(batch)")
            XCTAssertEqual(guest.entryHead, guest.tail)
            XCTAssertEqual(guest.peerReceive(), outgoing, "batch \(batch)")
            let completions = guest.takeCompletions()
            XCTAssertEqual(completions.map(\.id), reads.map(\.id), "batch \(batch)")
            XCTAssertEqual(completions.prefix(150).map(\.len), incoming.map { UInt32($0.count) })
            XCTAssertTrue(completions.dropFirst(150).allSatisfy { $0.ret == RIAD_HVT_R_AGAIN.rawValue })
            for (index, frame) in incoming.enumerated() {
                XCTAssertEqual(
                    guest.peek(reads[index].buffer, count: frame.count), frame, "batch \(batch) read \(index)"
                )
            }
        }
        XCTAssertEqual(guest.tail, 8400)
        XCTAssertEqual(guest.commitTail, UInt32(8400 - sentNumber))
        XCTAssertEqual(guest.statistics.value(.ringFramesSent), UInt64(sentNumber))
        XCTAssertGreaterThan(sentNumber, 2700)
        XCTAssertEqual(guest.statistics.value(.ringFramesReceived), 1800)
    }

    /// Reads and writes interleaved, with ids in no order: the answers
    /// come in the reads' order, each with its read's id.
    func testCompletionsAreMatchedByIdAmongInterleavedWrites() throws {
        let guest = try RingGuest()
        let incoming = frames(4, from: 500)
        for frame in incoming { guest.peerSend(frame) }
        let outgoing = frames(4)
        let ids: [UInt32] = [77, 3, 0xffff_ffff, 12]
        var buffers: [UInt64] = []
        var written = 0
        for operation in "WRWWRRWR" {
            if operation == "W" {
                let frame = outgoing[written]
                // A write's id is echoed nowhere; give it one a read has.
                guest.post(.write, data: guest.place(frame), length: frame.count, id: ids[written])
                written += 1
            } else {
                buffers.append(guest.allocate(1514))
                guest.post(.read, data: buffers.last!, length: 1514, id: ids[buffers.count - 1])
            }
            // Published one at a time, processed in two passes.
            guest.publish()
            if guest.tail == 3 { XCTAssertEqual(try guest.ring.process(), 3) }
        }
        XCTAssertEqual(try guest.ring.process(), 5)
        XCTAssertEqual(guest.peerReceive(), outgoing)
        let completions = guest.takeCompletions()
        XCTAssertEqual(completions.map(\.id), ids)
        for (index, completion) in completions.enumerated() {
            XCTAssertEqual(completion.ret, 0)
            XCTAssertEqual(guest.peek(buffers[index], count: Int(completion.len)), incoming[index])
        }
    }

    /// Processing with nothing new, as after a spurious kick or a kick the
    /// kernel made for entries already taken, changes nothing; entries
    /// published without a kick are taken by the next pass.
    func testProcessingWithNothingNewIsHarmless() throws {
        let guest = try RingGuest()
        let frame = testFrame(number: 1, length: 100)
        guest.post(.write, data: guest.place(frame), length: frame.count, id: 0)
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 1)
        XCTAssertEqual(guest.peerReceive(), [frame])
        let before = guest.snapshot()
        for _ in 0..<3 { XCTAssertEqual(try guest.ring.process(), 0) }
        XCTAssertTrue(guest.unchanged(since: before))
        XCTAssertTrue(guest.peerReceive().isEmpty)
        XCTAssertEqual(guest.statistics.value(.ringFramesSent), 1)
        // Entries written but not yet published are not taken.
        guest.post(.write, data: guest.place(frame), length: frame.count, id: 0)
        XCTAssertEqual(try guest.ring.process(), 0)
        XCTAssertTrue(guest.peerReceive().isEmpty)
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 1)
        XCTAssertEqual(guest.peerReceive(), [frame])
    }

    /// A read buffer too small for a whole frame is answered EINVAL, as
    /// NET_READ answers it, without touching the buffer or the frame
    /// waiting; the entries after it are served.
    func testASmallReadBufferIsAnsweredEINVAL() throws {
        let guest = try RingGuest()
        let waiting = testFrame(number: 9, length: 200)
        guest.peerSend(waiting)
        let small = guest.allocate(1513)
        guest.fill(small, count: 1513, with: 0x5a)
        guest.post(.read, data: small, length: 1513, id: 1)
        // Small and nowhere near guest memory: still only EINVAL.
        guest.post(.read, data: 0xffff_ffff_0000_0000, length: 64, id: 2)
        let good = guest.allocate(1514)
        guest.post(.read, data: good, length: 1514, id: 3)
        let frame = testFrame(number: 10, length: 60)
        guest.post(.write, data: guest.place(frame), length: frame.count, id: 0)
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 4)
        let completions = guest.takeCompletions()
        let invalid = Int32(RIAD_HVT_R_EINVAL.rawValue)
        XCTAssertEqual(completions.map(\.id), [1, 2, 3])
        XCTAssertEqual(completions.map(\.ret), [invalid, invalid, 0])
        XCTAssertEqual(completions.map(\.len), [0, 0, 200])
        XCTAssertEqual(guest.peek(small, count: 1513), [UInt8](repeating: 0x5a, count: 1513))
        XCTAssertEqual(guest.peek(good, count: 200), waiting)
        XCTAssertEqual(guest.peerReceive(), [frame])
    }

    // MARK: A hostile guest

    func testAWriteOutsideGuestMemoryIsAViolation() throws {
        let guest = try RingGuest()
        guest.post(.write, data: 8 << 20, length: 60, id: 0)
        try expectViolation(guest, "entry 0: guest gave an invalid frame: 60 bytes at 0x800000")
    }

    func testAFrameStraddlingTheEndOfMemoryIsAViolation() throws {
        let guest = try RingGuest()
        guest.post(.write, data: guest.memory.size - 30, length: 60, id: 0)
        try expectViolation(guest, "invalid frame: 60 bytes at 0x3fffe2 (guest memory is 0x10000..<0x400000)")
    }

    /// The ring lies just above the kernel's memory, mapped, but no
    /// buffer may be there: the tender must neither send the ring's bytes
    /// nor receive a frame into it.
    func testBuffersInsideTheRingAreViolations() throws {
        let guest = try RingGuest()
        guest.post(.write, data: guest.memory.size + 0x1000, length: 60, id: 0)
        try expectViolation(guest, "entry 0: guest gave an invalid frame: 60 bytes at 0x401000")

        let reader = try RingGuest()
        reader.peerSend(testFrame(number: 1, length: 60))
        reader.post(.read, data: reader.memory.size, length: 1514, id: 0)
        try expectViolation(reader, "entry 0: guest gave an invalid frame buffer: 1514 bytes at 0x400000")
        XCTAssertTrue(reader.frameIsStillWaiting())
    }

    func testBuffersBelowTheFloorsAreViolations() throws {
        let guest = try RingGuest()
        guest.post(.write, data: 0xfff0, length: 60, id: 0)
        try expectViolation(
            guest, "entry 0: guest gave an invalid frame: 60 bytes at 0xfff0 (guest memory is 0x10000")

        // The tender writes nothing below 0x100000 (page tables, boot info).
        let reader = try RingGuest()
        reader.peerSend(testFrame(number: 1, length: 60))
        reader.post(.read, data: 0xff000, length: 1514, id: 0)
        try expectViolation(
            reader,
            "entry 0: guest gave an invalid frame buffer: 1514 bytes at 0xff000 (guest memory is 0x100000")
        XCTAssertTrue(reader.frameIsStillWaiting())
        let boundary = try RingGuest()
        boundary.peerSend(testFrame(number: 1, length: 60))
        boundary.post(.read, data: 0x100000 - 1514, length: 1514, id: 0)
        try expectViolation(boundary, "1514 bytes at 0xffa16")
    }

    func testAnAddressThatOverflowsIsAViolation() throws {
        let guest = try RingGuest()
        guest.post(.write, data: UInt64.max - 10, length: 60, id: 0)
        try expectViolation(guest, "entry 0: guest gave an invalid frame: 60 bytes at 0xfffffffffffffff5")

        let reader = try RingGuest()
        reader.peerSend(testFrame(number: 1, length: 60))
        reader.post(.read, data: UInt64.max - 1000, length: 1514, id: 0)
        try expectViolation(reader, "invalid frame buffer: 1514 bytes at 0xfffffffffffffc17")
        XCTAssertTrue(reader.frameIsStillWaiting())
    }

    func testAnUnknownOperationIsAViolation() throws {
        for operation: UInt32 in [0, 3, 0x8000_0001] {
            let guest = try RingGuest()
            let frame = testFrame(number: 1, length: 60)
            guest.post(RingGuest.Operation(rawValue: operation), data: guest.place(frame), length: 60, id: 0)
            try expectViolation(guest, "entry 0 has unknown operation \(operation)")
        }
    }

    func testAHandleThatIsNoNetDeviceIsAViolation() throws {
        for handle: UInt32 in [0, 2, 63, 64, .max] {
            let guest = try RingGuest()
            let frame = testFrame(number: 1, length: 60)
            guest.post(.write, handle: handle, data: guest.place(frame), length: 60, id: 0)
            try expectViolation(guest, "entry 0 names handle \(handle), which is no attached network device")

            let reader = try RingGuest()
            reader.peerSend(frame)
            reader.post(.read, handle: handle, data: reader.allocate(1514), length: 1514, id: 0)
            try expectViolation(reader, "entry 0 names handle \(handle), which is no attached network device")
            XCTAssertTrue(reader.frameIsStillWaiting())
        }
    }

    func testFramesOfTheWrongSizeAreViolations() throws {
        for length in [1515, 13, 0, 65536, Int(UInt32.max)] {
            let guest = try RingGuest()
            guest.post(.write, data: 0x100000, length: length, id: 0)
            try expectViolation(
                guest, "entry 0 sends a frame of \(length) bytes on 'service' (frames are 14 to 1514 bytes)")
        }
    }

    /// Entries before the bad one are served; the bad one and those after
    /// it are not.
    func testAViolationStopsAtTheBadEntry() throws {
        let guest = try RingGuest()
        let frame = testFrame(number: 1, length: 60)
        guest.post(.write, data: guest.place(frame), length: 60, id: 0)
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 1)
        XCTAssertEqual(guest.peerReceive(), [frame])
        guest.post(.write, data: guest.place(frame), length: 60, id: 0)
        guest.post(.write, data: guest.place(frame), length: 1515, id: 0)
        guest.post(.write, data: guest.place(frame), length: 60, id: 0)
        guest.publish()
        XCTAssertThrowsError(try guest.ring.process()) { error in
            XCTAssertTrue("\(error)".contains("entry 2 sends a frame of 1515 bytes"), "\(error)")
        }
        XCTAssertEqual(guest.peerReceive(), [frame])
        XCTAssertEqual(guest.entryHead, 2)
    }

    func testEntryTailMovedBackwardsIsAViolation() throws {
        let guest = try RingGuest()
        let frame = testFrame(number: 1, length: 60)
        for _ in 0..<3 { guest.post(.write, data: guest.place(frame), length: 60, id: 0) }
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 3)
        _ = guest.peerReceive()
        guest.publish(tail: 2)
        try expectViolation(
            guest, "ent_tail is 2 with ent_head at 3: moved backwards or past the ring's 1024 entries")
    }

    func testEntryTailTooFarAheadIsAViolation() throws {
        for tail: UInt32 in [1025, 5000, 0x8000_0000, .max] {
            let guest = try RingGuest()
            // Valid entries in every slot: none may be taken.
            let frame = testFrame(number: 1, length: 60)
            let address = guest.place(frame)
            for _ in 0..<1024 { guest.post(.write, data: address, length: 60, id: 0) }
            guest.publish(tail: tail)
            try expectViolation(
                guest,
                "ent_tail is \(tail) with ent_head at 0: moved backwards or past the ring's 1024 entries")
        }
    }

    func testCompletionHeadPastCompletionTailIsAViolation() throws {
        let guest = try RingGuest()
        guest.post(.read, data: guest.allocate(1514), length: 1514, id: 0)
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 1)
        XCTAssertEqual(guest.commitTail, 1)
        guest.consume(upTo: 2)
        guest.post(.read, data: guest.allocate(1514), length: 1514, id: 1)
        try expectViolation(guest, "com_head is 2 with com_tail at 1: moved backwards or past")
    }

    /// The kernel must take its completions: with 1024 unconsumed, the
    /// next would overwrite the oldest, which the tender refuses to do.
    func testTooManyUnconsumedCompletionsAreAViolation() throws {
        let guest = try RingGuest()
        let buffer = guest.allocate(1514)
        for _ in 0..<1000 { guest.post(.read, data: buffer, length: 1514, id: 7) }
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 1000)
        for _ in 0..<24 { guest.post(.read, data: buffer, length: 1514, id: 7) }
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 24)
        XCTAssertEqual(guest.commitTail, 1024)
        // One consumed: one more fits.
        guest.consume(upTo: 1)
        guest.post(.read, data: buffer, length: 1514, id: 8)
        guest.publish()
        XCTAssertEqual(try guest.ring.process(), 1)
        XCTAssertEqual(guest.commit(at: 1024).id, 8)
        // Now 1024 unconsumed again: the next read would overwrite
        // completion 1, which the kernel has not taken.
        guest.post(.read, data: buffer, length: 1514, id: 9)
        try expectViolation(guest, "the kernel left 1024 completions unconsumed")
        XCTAssertEqual(guest.commit(at: 1).id, 7)
    }

    /// The guest rewrites a published entry while the tender takes it,
    /// flipping between a good entry and a bad one (length 9000, and an
    /// address in the ring's own page). The tender copies each entry
    /// once and checks and uses only the copy, so every pass either sends
    /// the good frame or throws; had it read the entry again after the
    /// check, the peer would sooner or later receive something else.
    ///
    /// A race: it cannot prove the absence of a second read, but a pass
    /// that checks one value and uses another is caught with near
    /// certainty over thousands of passes. It runs until it has seen both
    /// outcomes many times.
    func testARewrittenEntryIsUsedAsItWasChecked() throws {
        let guest = try RingGuest()
        let good = testFrame(number: 1, length: 60)
        let goodAddress = guest.place(good)
        // What a second read would send: the ring's page, marked.
        let inRing = guest.memory.size + 0x10000
        guest.memory.reserved.baseAddress!.advanced(by: 0x10000).initializeMemory(
            as: UInt8.self, repeating: 0xee, count: 9000)
        let flipper = EntryFlipper(
            ring: guest.memory.reserved.baseAddress!, good: (goodAddress, 60), bad: (inRing, 9000))
        guest.post(.write, data: goodAddress, length: 60, id: 0)
        flipper.slot.store(0, ordering: .sequentiallyConsistent)
        Thread { flipper.run() }.start()
        // The thread writes guest memory: it must be done before the
        // memory goes.
        defer { flipper.finish() }
        var taken = 0
        var refused = 0
        var passes = 0
        while (taken < 1000 || refused < 1000) && passes < 2_000_000 {
            passes += 1
            guest.publish()
            do {
                let count = try guest.ring.process()
                XCTAssertEqual(count, 1)
                taken += 1
                let received = guest.peerReceive()
                guard received == [good] else {
                    let what = received.first?.first == 0xee ? " from the ring's page" : ""
                    XCTFail(
                        "pass \(passes): the tender sent frames of \(received.map(\.count)) bytes\(what), "
                            + "not the 60-byte frame it checked")
                    return
                }
                // The next entry, in the next slot.
                guest.post(.write, data: goodAddress, length: 60, id: 0)
                flipper.slot.store(guest.tail - 1, ordering: .sequentiallyConsistent)
            } catch {
                // The same entry is looked at again on the next pass.
                refused += 1
                XCTAssertTrue(
                    error.message.contains("60 bytes at 0x410000") || error.message.contains("of 9000 bytes")
                        || error.message.contains("9000 bytes at 0x410000"), error.message)
            }
        }
        flipper.finish()
        XCTAssertTrue(guest.peerReceive().isEmpty)
        try XCTSkipUnless(
            taken >= 1000 && refused >= 1000,
            "the two threads never raced: \(taken) taken, \(refused) refused in \(passes) passes")
    }

    /// The same race for reads, where the tender writes guest memory: the
    /// buffer flips between a good one and one in the ring's page. Each
    /// pass either receives the frame into the good buffer or throws with
    /// the frame left waiting; the ring's page is never written.
    func testARewrittenReadEntryIsUsedAsItWasChecked() throws {
        let guest = try RingGuest()
        let buffer = guest.allocate(1514)
        let marked = guest.memory.reserved.baseAddress!.advanced(by: 0x10000)
        marked.initializeMemory(as: UInt8.self, repeating: 0xee, count: 1514)
        let intact = [UInt8](repeating: 0xee, count: 1514)
        let flipper = EntryFlipper(
            ring: guest.memory.reserved.baseAddress!, good: (buffer, 1514),
            bad: (guest.memory.size + 0x10000, 1514))
        guest.post(.read, data: buffer, length: 1514, id: 0)
        flipper.slot.store(0, ordering: .sequentiallyConsistent)
        Thread { flipper.run() }.start()
        defer { flipper.finish() }
        var taken = 0
        var refused = 0
        var passes = 0
        var frame = testFrame(number: 0, length: 60)
        guest.peerSend(frame)
        while (taken < 1000 || refused < 1000) && passes < 2_000_000 {
            passes += 1
            guest.publish()
            do {
                let count = try guest.ring.process()
                XCTAssertEqual(count, 1)
                taken += 1
                let completions = guest.takeCompletions()
                guard completions.map(\.len) == [60], guest.peek(buffer, count: 60) == frame,
                    Array(UnsafeRawBufferPointer(start: marked, count: 1514)) == intact
                else {
                    XCTFail("pass \(passes): the frame did not go, alone, into the buffer that was checked")
                    return
                }
                frame = testFrame(number: passes, length: 60)
                guest.peerSend(frame)
                guest.post(.read, data: buffer, length: 1514, id: 0)
                flipper.slot.store(guest.tail - 1, ordering: .sequentiallyConsistent)
            } catch {
                refused += 1
                XCTAssertTrue(error.message.contains("frame buffer: 1514 bytes at 0x410000"), error.message)
                XCTAssertTrue(guest.frameIsStillWaiting())
            }
        }
        flipper.finish()
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: marked, count: 1514)), intact)
        try XCTSkipUnless(
            taken >= 1000 && refused >= 1000,
            "the two threads never raced: \(taken) taken, \(refused) refused in \(passes) passes")
    }

    /// The real I/O thread (`start(kick:)`): it polls, then says it will
    /// sleep (needs_kick), sleeps until the kick's eventfd is signalled,
    /// and takes whatever was published meanwhile. A kick with nothing
    /// new wakes it for nothing; entries published without a kick wait for
    /// the next.
    ///
    /// The thread cannot be stopped: it is left asleep on an eventfd no
    /// one signals again, holding its ring, for the rest of the test run.
    /// Only valid entries are given to it (a violation would end the test
    /// process).
    func testTheIOThreadSleepsAndIsKicked() throws {
        let guest = try RingGuest()
        let kick = eventfd(0, Int32(EFD_CLOEXEC))
        XCTAssertGreaterThanOrEqual(kick, 0)
        try guest.ring.start(kick: kick)
        try guest.waitUntil("the I/O thread asks for a kick") { guest.needsKick == 1 }
        XCTAssertEqual(guest.statistics.value(.ringWakeUps), 0)

        // Published with no kick: the thread sleeps on.
        let first = testFrame(number: 1, length: 80)
        guest.post(.write, data: guest.place(first), length: first.count, id: 0)
        guest.publish()
        // A spurious kick could not be told from this one; the thread
        // takes the entry either way and goes back to sleep.
        let second = testFrame(number: 2, length: 90)
        guest.post(.write, data: guest.place(second), length: second.count, id: 0)
        guest.publish()
        signal(kick)
        try guest.waitUntil("both entries taken") { guest.entryHead == 2 }
        try guest.waitUntil("the I/O thread asks for a kick again") { guest.needsKick == 1 }
        XCTAssertEqual(guest.peerReceive(), [first, second])

        // A kick with nothing new: the thread wakes, takes nothing.
        let wakeUps = guest.statistics.value(.ringWakeUps)
        signal(kick)
        try guest.waitUntil("woken") { guest.statistics.value(.ringWakeUps) > wakeUps }
        try guest.waitUntil("asleep again") { guest.needsKick == 1 }
        XCTAssertEqual(guest.entryHead, 2)
        XCTAssertTrue(guest.peerReceive().isEmpty)

        // And it serves on: a read, answered.
        let waiting = testFrame(number: 3, length: 70)
        guest.peerSend(waiting)
        let buffer = guest.allocate(1514)
        guest.post(.read, data: buffer, length: 1514, id: 42)
        guest.publish()
        signal(kick)
        try guest.waitUntil("the read answered") { guest.commitTail == 1 }
        let completion = guest.takeCompletions()
        XCTAssertEqual(completion.map(\.id), [42])
        XCTAssertEqual(completion.map(\.len), [70])
        XCTAssertEqual(guest.peek(buffer, count: 70), waiting)
        try guest.waitUntil("asleep at the end") { guest.needsKick == 1 }
        // The thread keeps `guest.ring`, and with it the memory and the
        // device's descriptors, for ever: leave them open.
        guest.leak()
    }

    private func signal(_ kick: Int32) {
        var one: UInt64 = 1
        XCTAssertEqual(Glibc.write(kick, &one, 8), 8)
    }

    /// Processes `guest`'s ring (publishing its entries first), which must
    /// throw a protocol violation containing `text`, having sent nothing
    /// and changed no byte of guest memory, the ring included.
    private func expectViolation(
        _ guest: RingGuest, _ text: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        if guest.tail != guest.publishedTail { guest.publish() }
        let before = guest.snapshot()
        let statistics = TenderStatistics.Counter.allCases.map { guest.statistics.value($0) }
        do {
            let taken = try guest.ring.process()
            XCTFail("the tender took \(taken) entries; expected: \(text)", file: file, line: line)
        } catch {
            XCTAssertTrue(
                error.message.hasPrefix("the kernel broke the net ring's protocol: "), error.message,
                file: file,
                line: line)
            XCTAssertTrue(
                error.message.contains(text), "'\(error.message)' lacks '\(text)'", file: file, line: line)
            XCTAssertFalse(error.message.contains("\n"), error.message, file: file, line: line)
        }
        XCTAssertTrue(guest.unchanged(since: before), "guest memory changed", file: file, line: line)
        XCTAssertTrue(guest.peerReceive().isEmpty, "frames were sent", file: file, line: line)
        XCTAssertEqual(
            TenderStatistics.Counter.allCases.map { guest.statistics.value($0) }, statistics, file: file,
            line: line)
        // And again: the tender does not take it the second time either.
        XCTAssertThrowsError(try guest.ring.process(), file: file, line: line)
    }
}

/// Offsets in struct riad_hvt_ring, as riad_hvt_ring.h gives them.
enum RingOffset {
    static let entryTail = 0
    static let commitHead = 4
    static let entryHead = 64
    static let commitTail = 68
    static let needsKick = 72
    static let entries = 128
    static let commits = 128 + 32 * 1024
}

/// A frame of `length` bytes: broadcast, from 02:00:00:00:00:01, EtherType
/// 0x88b5, then `number` and bytes that depend on it and their place.
func testFrame(number: Int, length: Int) -> [UInt8] {
    var frame = [UInt8](repeating: 0, count: length)
    let header: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]
    for index in 0..<length {
        if index < 14 {
            frame[index] = header[index]
        } else if index < 18 {
            frame[index] = UInt8(truncatingIfNeeded: number >> (8 * (index - 14)))
        } else {
            frame[index] = UInt8(truncatingIfNeeded: number &* 31 &+ index)
        }
    }
    return frame
}

/// The kernel's side of a ring, played by a test: guest memory of 4 MiB
/// with the ring above it, one net device (handle 1, "service") whose
/// far end, the peer, stands for the host's network.
final class RingGuest {
    struct Operation {
        let rawValue: UInt32
        static let write = Operation(rawValue: RIAD_HVT_RING_NET_WRITE)
        static let read = Operation(rawValue: RIAD_HVT_RING_NET_READ)
    }

    let memory: GuestMemory
    let statistics = TenderStatistics()
    let ring: NetRing
    /// The device's descriptor (non-blocking, as a tap's) and the peer's.
    let tenderEnd: Int32
    let peerEnd: Int32
    /// The guest's ent_tail (entries written) and what it has published.
    private(set) var tail: UInt32 = 0
    private(set) var publishedTail: UInt32 = 0
    /// The guest's com_head.
    private(set) var completionHead: UInt32 = 0
    /// Where the next buffer goes (`allocate`): from 0x100000 up.
    private var nextBuffer: UInt64 = 0x100000
    private var leaked = false

    init() throws {
        memory = try GuestMemory(size: 4 << 20, reserved: NetRing.reservation)
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &ends) == 0 else {
            throw TestError("socketpair: \(String(cString: strerror(errno)))")
        }
        tenderEnd = ends[0]
        peerEnd = ends[1]
        _ = fcntl(tenderEnd, F_SETFL, fcntl(tenderEnd, F_GETFL) | O_NONBLOCK)
        // Room for every frame a test queues either way, so that no write
        // is lost as on a full socket (a tap's writes are not). Forced
        // where allowed (root), else as much as net.core.wmem_max allows.
        let sendBufferForce: Int32 = 32  // SO_SNDBUFFORCE
        for fd in [tenderEnd, peerEnd] {
            var size: Int32 = 64 << 20
            if setsockopt(fd, SOL_SOCKET, sendBufferForce, &size, 4) != 0 {
                _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, 4)
            }
        }
        let net = NetDevice(handle: 1, name: "service", fd: tenderEnd, mac: [2, 0, 0, 0, 0, 2])
        ring = NetRing(memory: memory, nets: [1: net], statistics: statistics)
    }

    deinit {
        if !leaked {
            close(tenderEnd)
            close(peerEnd)
        }
    }

    /// For a ring the I/O thread serves: its descriptors stay open.
    func leak() {
        leaked = true
        _ = Unmanaged.passRetained(self)
    }

    private var base: UnsafeMutableRawPointer { memory.reserved.baseAddress! }

    // MARK: Entries and indices

    /// Writes an entry at ent_tail and advances the guest's own tail; not
    /// yet published.
    func post(_ operation: Operation, handle: UInt32 = 1, data: UInt64, length: Int, id: UInt32) {
        let entry = riad_hvt_ring_entry(
            operation: operation.rawValue, handle: handle, data: data,
            len: UInt32(truncatingIfNeeded: length),
            id: id, reserved: 0)
        (base + RingOffset.entries + Int(tail & 1023) * 32).storeBytes(
            of: entry, as: riad_hvt_ring_entry.self)
        tail &+= 1
    }

    /// Stores ent_tail: the entries posted so far, or any value.
    func publish(tail value: UInt32? = nil) {
        if let value { tail = value }
        riad_store_u32(base + RingOffset.entryTail, tail)
        publishedTail = tail
    }

    var entryHead: UInt32 { riad_load_u32(base + RingOffset.entryHead) }
    var commitTail: UInt32 { riad_load_u32(base + RingOffset.commitTail) }
    var needsKick: UInt32 { riad_load_u32(base + RingOffset.needsKick) }

    func commit(at index: UInt32) -> riad_hvt_ring_commit {
        (base + RingOffset.commits + Int(index & 1023) * 16).load(as: riad_hvt_ring_commit.self)
    }

    /// Takes every completion written, advancing com_head.
    func takeCompletions() -> [riad_hvt_ring_commit] {
        var taken: [riad_hvt_ring_commit] = []
        let end = commitTail
        while completionHead != end {
            taken.append(commit(at: completionHead))
            completionHead &+= 1
        }
        riad_store_u32(base + RingOffset.commitHead, completionHead)
        return taken
    }

    /// Stores com_head, as if completions up to `value` were taken.
    func consume(upTo value: UInt32) {
        completionHead = value
        riad_store_u32(base + RingOffset.commitHead, value)
    }

    // MARK: Guest memory

    /// A fresh buffer of `count` bytes in guest memory.
    func allocate(_ count: Int) -> UInt64 {
        let address = nextBuffer
        nextBuffer += UInt64(count + 63) / 64 * 64
        precondition(nextBuffer <= memory.size, "the test ran out of guest memory")
        return address
    }

    func resetAllocation() { nextBuffer = 0x100000 }

    /// Copies `frame` into a fresh buffer; returns its address.
    func place(_ frame: [UInt8]) -> UInt64 {
        let address = allocate(frame.count)
        poke(frame, at: address)
        return address
    }

    func poke(_ bytes: [UInt8], at address: UInt64) {
        memory.all.baseAddress!.advanced(by: Int(address)).copyMemory(from: bytes, byteCount: bytes.count)
    }

    func fill(_ address: UInt64, count: Int, with byte: UInt8) {
        memory.all.baseAddress!.advanced(by: Int(address)).initializeMemory(
            as: UInt8.self, repeating: byte, count: count)
    }

    func peek(_ address: UInt64, count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: memory.all.baseAddress! + Int(address), count: count))
    }

    /// All of the mapping: the kernel's memory and the ring's page.
    func snapshot() -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: memory.base, count: Int(memory.mappedSize)))
    }

    func unchanged(since snapshot: [UInt8]) -> Bool {
        snapshot.withUnsafeBytes { memcmp($0.baseAddress!, memory.base, $0.count) == 0 }
    }

    // MARK: The peer

    /// Sends a frame to the device, as the network would.
    func peerSend(_ frame: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        let sent = frame.withUnsafeBytes { send(peerEnd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if sent != frame.count {
            XCTFail("the peer could not send: \(String(cString: strerror(errno)))", file: file, line: line)
        }
    }

    /// Every frame the tender has written so far, in order.
    func peerReceive() -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes {
                recv(peerEnd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            guard count >= 0 else { break }
            frames.append(Array(buffer[0..<count]))
        }
        return frames
    }

    /// Whether the frame the peer sent is still unread by the tender.
    func frameIsStillWaiting() -> Bool {
        var byte: UInt8 = 0
        return recv(tenderEnd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK)) > 0
    }

    /// Waits for the I/O thread to make `condition` true.
    func waitUntil(_ what: String, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(30)
        while !condition() {
            guard Date() < deadline else { throw TestError("never happened: \(what)") }
            usleep(100)
        }
    }
}

/// Rewrites one ring entry's data and len without pause, good then bad.
private final class EntryFlipper: @unchecked Sendable {
    let ring: UnsafeMutableRawPointer
    let good: (data: UInt64, length: UInt32)
    let bad: (data: UInt64, length: UInt32)
    let slot = Atomic<UInt32>(0)
    private let stop = Atomic<Bool>(false)
    private let done = Atomic<Bool>(false)

    init(ring: UnsafeMutableRawPointer, good: (UInt64, UInt32), bad: (UInt64, UInt32)) {
        self.ring = ring
        self.good = good
        self.bad = bad
    }

    func run() {
        while !stop.load(ordering: .relaxed) {
            let entry = ring + RingOffset.entries + Int(slot.load(ordering: .relaxed) & 1023) * 32
            for (data, length) in [bad, good] {
                riad_store_u64(entry + 8, data)
                riad_store_u32(entry + 16, length)
            }
        }
        done.store(true, ordering: .sequentiallyConsistent)
    }

    /// Stops the thread and waits until it has.
    func finish() {
        stop.store(true, ordering: .sequentiallyConsistent)
        while !done.load(ordering: .sequentiallyConsistent) { usleep(100) }
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
