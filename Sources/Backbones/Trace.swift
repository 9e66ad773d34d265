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
        /// `[heads, tokens, tokens]` softmax probabilities, for attention blocks.
        public let attention: Tensor?

        public init(tokens: Tensor, gridHeight: Int, gridWidth: Int, prefixTokens: Int, attention: Tensor?) {
            self.tokens = tokens
            self.gridHeight = gridHeight
            self.gridWidth = gridWidth
            self.prefixTokens = prefixTokens
            self.attention = attention
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

    public init(layers: [Layer], final: Layer, logits: [Float]?, hasClassToken: Bool = false, rolloutRows: [[Float]]? = nil) {
        self.layers = layers
        self.final = final
        self.logits = logits
        self.hasClassToken = hasClassToken
        self.rolloutRows = rolloutRows
    }
}

/// A model that turns a normalised image into a Trace.
public protocol Backbone: Sendable {
    var summary: ArchitectureSummary { get }
    /// `pixels`: `[3, height, width]`, normalised, with sides that the model accepts
    /// (multiples of the patch size for ViTs).
    func forward(pixels: [Float], height: Int, width: Int) -> Trace
}
