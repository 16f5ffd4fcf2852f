import Riad

// The user calls of RFC 9293 section 3.10 (SEND, RECEIVE, CLOSE as
// shutdown) on one connection. The layer checks the ID and frees slots;
// these only change the TCB.

extension TCPConnection {
    /// The error a call must throw, if the connection can take no calls.
    var callError: RiadError? {
        if applicationClosed { return RiadError(.closed, "the connection was closed") }
        if let error { return RiadError(error, "the connection failed") }
        return nil
    }

    /// SEND (RFC 9293 section 3.10.2): copies what fits into the send
    /// buffer. Data queued before the handshake ends waits for it.
    mutating func applicationSend(_ bytes: UnsafeRawBufferPointer) throws(RiadError) -> Int {
        if let error = callError { throw error }
        guard acceptsData else { throw RiadError(.closed, "the connection was shut down") }
        return sendBuffer.append(bytes)
    }

    /// RECEIVE (RFC 9293 section 3.10.3): nil while nothing has arrived, 0
    /// at the end of the stream. Reading may open the window enough for a
    /// window update (RFC 9293 section 3.8.6.2.2).
    mutating func applicationReceive(
        into buffer: UnsafeMutableRawBufferPointer, _ configuration: TCPConfiguration
    ) throws(RiadError) -> Int? {
        if let error = callError { throw error }
        let count = receiveBuffer.read(into: buffer)
        if count > 0 {
            if windowUpdateDue(configuration) { ackNow = true }
            return count
        }
        if finReceived && receiveBuffer.isEmpty { return 0 }
        return nil
    }

    /// Whether `applicationReceive` would return something other than nil.
    var readable: Bool {
        callError != nil || !receiveBuffer.isEmpty || finReceived
    }

    /// CLOSE as a half-close (RFC 9293 section 3.10.4): a FIN after the
    /// data queued; ESTABLISHED goes to FIN-WAIT-1, CLOSE-WAIT to LAST-ACK.
    /// Before the handshake ends the FIN waits for it.
    mutating func applicationShutdown() throws(RiadError) {
        if let error = callError { throw error }
        queueFIN()
    }

    /// What the application may do now.
    var status: TCPConnectionStatus {
        let failed = callError != nil
        let space = acceptsData ? sendBuffer.freeSpace : 0
        return TCPConnectionStatus(
            readable: readable, writable: failed || !acceptsData || space > 0, sendSpace: space,
            established: wasEstablished, error: applicationClosed ? .closed : error)
    }
}
