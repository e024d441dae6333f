"""Real time: the WebRTC connectivity probe (and, next, the hall's socket.io namespaces)."""
