import Foundation
import Tensors

/// Everything one forward pass leaves behind for the pooling methods: every layer's tokens
/// on their grid and, for transformers, every block's attention probabilities.
public struct Trace: Sendable {
    public struct Layer: Sendable {
        /// `[tokens, channels]`: for ViTs the prefix tokens ([CLS], registers) come first,
        /// then the patches row by row; for CNNs the feature map, channels last.
        public let tokens: Tensor
        /// Grid of the patch tokens (rows, columns).
        public let gridHeight: Int
        public let gridWidth: Int
        /// How many non-patch tokens lead `tokens`.
        public let prefixTokens: Int
        /// `[heads, tokens, tokens]` softmax probabilities, for attention blocks (nil in a
        /// compacted trace).
        public let attention: Tensor?
        /// `[heads, tokens]`: the [CLS] query's row of each head, kept by `compacted()`.
        public let classAttention: Tensor?

        public init(tokens: Tensor, gridHeight: Int, gridWidth: Int, prefixTokens: Int, attention: Tensor?,
                    classAttention: Tensor? = nil) {
            self.tokens = tokens
            self.gridHeight = gridHeight
            self.gridWidth = gridWidth
            self.prefixTokens = prefixTokens
            self.attention = attention
            self.classAttention = classAttention
        }

        /// The [CLS] query rows of every head: from the full attention, or as kept.
        public var classRows: Tensor? { classAttention ?? rows(of: 0) }

        /// Token `token`'s row of every head, `[heads, T]`, from the full attention when kept.
        func rows(of token: Int) -> Tensor? {
            guard let attention, token < attention.shape[1] else { return nil }
            let (heads, tokens) = (attention.shape[0], attention.shape[1])
            var rows: [Float] = []
            rows.reserveCapacity(heads * tokens)
            for h in 0..<heads {
                let start = (h * tokens + token) * tokens
                rows += attention.scalars[start..<(start + tokens)]
            }
            return Tensor(shape: [heads, tokens], scalars: rows)
        }

        /// The patch tokens only, `[gridHeight·gridWidth, channels]`.
        public var patchTokens: Tensor {
            prefixTokens == 0 ? tokens : tokens.rows(prefixTokens..<tokens.shape[0])
        }
    }

    /// Block outputs (ViT) or stage outputs (CNN), first to last.
    public let layers: [Layer]
    /// The last layer after the model's final normalisation (ViTs), what heads consume.
    public let final: Layer
    /// Classifier logits when the checkpoint has a head.
    public let logits: [Float]?
    /// True when token 0 of every layer is a [CLS] token.
    public let hasClassToken: Bool
    /// Attention rollout's [CLS] row through each block (length T), for ViTs with a [CLS]
    /// token; computed with the forward pass (see `AttentionRollout`).
    public let rolloutRows: [[Float]]?
    /// The tokens that entered the first block (ViTs), so that any block's attention can
    /// be computed again from its input when the trace no longer holds it.
    public let embedding: Tensor?
    /// The model that can compute a block's attention again (ViTs).
    public let attentionSource: (any AttentionRecomputing)?
    /// Results derived from this trace on demand (recomputed attention, fused rollout
    /// matrices), a few at a time; shared by copies of the trace.
    public let memo = TraceMemo()

    /// The same trace without the full attention matrices, which are most of its memory
    /// (12 blocks × 6 heads × T², 42 MB for a 224×336 image): what the explorer and the
    /// exporter keep. Every method still runs: [CLS] reads the kept query rows and rollout
    /// its precomputed rows.
    public func compacted() -> Trace {
        guard hasClassToken, rolloutRows != nil, layers.contains(where: { $0.attention != nil }) else { return self }
        let compact = { (layer: Layer) in
            Layer(tokens: layer.tokens, gridHeight: layer.gridHeight, gridWidth: layer.gridWidth,
                  prefixTokens: layer.prefixTokens, attention: nil, classAttention: layer.classRows)
        }
        return Trace(layers: layers.map(compact), final: compact(final), logits: logits, hasClassToken: hasClassToken,
                     rolloutRows: rolloutRows, embedding: embedding, attentionSource: attentionSource)
    }

    public init(layers: [Layer], final: Layer, logits: [Float]?, hasClassToken: Bool = false, rolloutRows: [[Float]]? = nil,
                embedding: Tensor? = nil, attentionSource: (any AttentionRecomputing)? = nil) {
        self.layers = layers
        self.final = final
        self.logits = logits
        self.hasClassToken = hasClassToken
        self.rolloutRows = rolloutRows
        self.embedding = embedding
        self.attentionSource = attentionSource
    }

    /// True when the forward pass kept every block's attention matrices.
    public var keepsAttention: Bool { layers.first?.attention != nil }

    /// True when every block's attention is kept or can be computed again.
    public var hasBlockAttention: Bool {
        layers.first?.attention != nil || (attentionSource != nil && embedding != nil)
    }

    /// Block `layer`'s attention `[heads, T, T]`: as kept, or computed again from the
    /// block's input (the previous block's output). A compacted trace keeps only the [CLS]
    /// rows, which is what lets neighbouring images stay in memory; the image on screen
    /// recomputes a block when rollout's options ask for the whole matrix (not memoised:
    /// rollout keeps what it derives from it).
    public func blockAttention(_ layer: Int) -> Tensor? {
        guard layers.indices.contains(layer) else { return nil }
        if let attention = layers[layer].attention { return attention }
        guard let attentionSource, let input = blockInput(layer) else { return nil }
        return attentionSource.attention(block: layer, input: input, grid: (layers[layer].gridHeight, layers[layer].gridWidth))
    }

    /// Token `token`'s attention rows at block `layer`, `[heads, T]`: a patch query's map.
    /// Computed again from the block's input when the trace does not keep the matrix (one
    /// projection of the tokens and one row per head), and memoised, so that a moving
    /// cursor or a grid of every layer costs each row once.
    public func queryRows(_ layer: Int, token: Int) -> Tensor? {
        guard layers.indices.contains(layer) else { return nil }
        if layers[layer].attention != nil { return layers[layer].rows(of: token) }
        guard let attentionSource, let input = blockInput(layer), token < input.shape[0] else { return nil }
        return memo.value(key: "rows \(layer) \(token)", bytes: { $0.count * 4 }) {
            attentionSource.attentionRows(block: layer, input: input, token: token,
                                          grid: (layers[layer].gridHeight, layers[layer].gridWidth))
        }
    }

    /// Attention rollout's row through block `layer` (length T) from token `start` ([CLS]
    /// by default, or a query patch's token): the [CLS] row as computed with the forward
    /// pass; otherwise, for a pass that kept no attention, computed again block by block
    /// from the kept inputs (e_startᵀ Â_layer ⋯ Â_0, Â = ½·mean_heads(A) + ½·I), memoised.
    public func rolloutRow(_ layer: Int, from start: Int = 0) -> [Float]? {
        if let rolloutRows, start == 0 { return rolloutRows.count > layer ? rolloutRows[layer] : nil }
        guard layers.indices.contains(layer), let attentionSource, embedding != nil,
              start < layers[layer].tokens.shape[0] else { return nil }
        return memo.value(key: "rollout row \(layer) \(start)", bytes: { $0.count * 4 }) {
            let tokens = layers[layer].tokens.shape[0]
            var row = [Float](repeating: 0, count: tokens)
            row[start] = 1
            for block in stride(from: layer, through: 0, by: -1) {
                let product = attentionSource.meanAttentionProduct(
                    block: block, input: blockInput(block)!, vector: row,
                    grid: (layers[block].gridHeight, layers[block].gridWidth))
                for t in 0..<tokens { row[t] = 0.5 * row[t] + 0.5 * product[t] }
            }
            return row
        }
    }

    private func blockInput(_ layer: Int) -> Tensor? { layer == 0 ? embedding : layers[layer - 1].tokens }
}

/// A model whose blocks' attention can be computed again from their input tokens.
public protocol AttentionRecomputing: Sendable {
    /// `[heads, T, T]` softmax probabilities of block `block` for its input `[T, width]`,
    /// whose patches lie on `grid` (rotary embeddings depend on it).
    func attention(block: Int, input: Tensor, grid: (height: Int, width: Int)) -> Tensor
    /// Token `token`'s rows of those probabilities, `[heads, T]`.
    func attentionRows(block: Int, input: Tensor, token: Int, grid: (height: Int, width: Int)) -> Tensor
    /// vᵀ · mean over heads of those probabilities (length T), without forming them whole.
    func meanAttentionProduct(block: Int, input: Tensor, vector: [Float], grid: (height: Int, width: Int)) -> [Float]
}

/// Values derived from one trace on demand (recomputed attention, fused rollout
/// matrices), kept by key within one byte budget shared by every trace, most recent
/// first: enough for every block's attention of a 224-pixel image or a few at 448, so
/// that a grid of layers or a moving query cursor does not recompute them each frame,
/// while the images kept beside the one on screen cannot add more. Values are computed
/// outside the lock, so two threads may both compute one; either result is the same.
public final class TraceMemo: @unchecked Sendable {
    public static let budgetBytes = 128 << 20

    private struct Entry {
        let owner: ObjectIdentifier
        let key: String
        let value: Any
        let bytes: Int
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var entries: [Entry] = []

    public init() {}

    deinit {
        let owner = ObjectIdentifier(self)
        Self.lock.lock()
        Self.entries.removeAll { $0.owner == owner }
        Self.lock.unlock()
    }

    public func value<Value>(key: String, bytes: (Value) -> Int, compute: () -> Value) -> Value {
        let owner = ObjectIdentifier(self)
        Self.lock.lock()
        if let index = Self.entries.firstIndex(where: { $0.owner == owner && $0.key == key }),
           let value = Self.entries[index].value as? Value {
            Self.entries.insert(Self.entries.remove(at: index), at: 0)
            Self.lock.unlock()
            return value
        }
        Self.lock.unlock()
        let value = compute()
        Self.lock.lock()
        Self.entries.removeAll { $0.owner == owner && $0.key == key }
        Self.entries.insert(Entry(owner: owner, key: key, value: value, bytes: bytes(value)), at: 0)
        var total = 0, kept = 0
        for entry in Self.entries {
            total += entry.bytes
            if kept > 0 && total > Self.budgetBytes { break }
            kept += 1
        }
        Self.entries.removeLast(Self.entries.count - kept)
        Self.lock.unlock()
        return value
    }
}

/// A model that turns a normalised image into a Trace.
public protocol Backbone: Sendable {
    var summary: ArchitectureSummary { get }
    /// `pixels`: `[3, height, width]`, normalised, with sides that the model accepts
    /// (multiples of the patch size for ViTs).
    func forward(pixels: [Float], height: Int, width: Int) -> Trace
}
