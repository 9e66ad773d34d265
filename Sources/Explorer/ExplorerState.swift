import Backbones
import Imaging
import Pooling
import TerminalCanvas

/// Everything the explorer shows, as a value. The driver turns keys into actions, the
/// reducer makes the next state, and `FrameComposer` draws a state: no terminal here.
public struct ExplorerState: Sendable {
    public enum View: String, CaseIterable, Sendable {
        case side, map, overlay, image

        var next: View { View.allCases[(View.allCases.firstIndex(of: self)! + 1) % View.allCases.count] }
    }

    /// What the body shows: one map (the view's panels), or small multiples of it.
    public enum Layout: String, CaseIterable, Sendable {
        /// The view's panels (image, map, overlay).
        case single
        /// Every head of this layer and their mean.
        case heads
        /// This method at every layer.
        case layers
        /// Every method at this layer.
        case methods

        var next: Layout { Layout.allCases[(Layout.allCases.firstIndex(of: self)! + 1) % Layout.allCases.count] }
    }

    /// Patch-query mode: the map shows where one patch looks.
    public struct Query: Sendable, Equatable {
        /// 0-based on the patch grid, from the top-left.
        public var row: Int
        public var column: Int
        /// The cosine similarity of the patch's features instead of its attention (always
        /// for models without attention).
        public var similarity: Bool

        public init(row: Int, column: Int, similarity: Bool = false) {
            self.row = row
            self.column = column
            self.similarity = similarity
        }
    }

    /// One image and what the engine has made of it so far.
    public struct Entry: Sendable {
        public enum Status: Sendable {
            case pending
            case ready(ImageResult)
            case failed(String)
        }
        public let path: String
        public var status: Status = .pending

        public var name: String { (path as NSString).lastPathComponent }
        public var result: ImageResult? { if case .ready(let r) = status { return r } else { return nil } }
        public var failure: String? { if case .failed(let m) = status { return m } else { return nil } }
    }

    /// What the model facts the explorer needs.
    public struct ModelFacts: Sendable {
        public var name: String
        public var architecture: String
        public var layerCount: Int
        public var heads: Int?
        /// True when the checkpoint did not say its head count and width / 64 was assumed.
        public var headsGuessed: Bool
        public var isTransformer: Bool
        /// A transformer with a [CLS] token (what `cls` and rollout need).
        public var hasClassToken: Bool
        public var context: MethodCatalog.Context

        public init(name: String, architecture: String, layerCount: Int, heads: Int?, headsGuessed: Bool = false,
                    isTransformer: Bool, hasClassToken: Bool? = nil, context: MethodCatalog.Context) {
            self.headsGuessed = headsGuessed
            self.hasClassToken = hasClassToken ?? isTransformer
            self.name = name
            self.architecture = architecture
            self.layerCount = layerCount
            self.heads = heads
            self.isTransformer = isTransformer
            self.context = context
        }

        /// A model named by a file path is shown by its file name: a long directory would
        /// push the method and layer out of a status line or caption.
        public static func displayName(_ name: String) -> String {
            name.contains("/") ? String(name[name.index(after: name.lastIndex(of: "/")!)...]) : name
        }
    }

    public var entries: [Entry]
    public var index = 0
    public var model: ModelFacts
    public var methods: [MethodCatalog.Specification]
    public var methodIndex = 0
    /// 0-based; the last layer by default.
    public var layer: Int
    public var head: HeadSelection = .mean
    public var thresholdOn = false
    public var mass: Float = 0.6
    public var colormap: Colormap = .viridis
    public var view: View = .side
    public var layout: Layout = .single
    /// The highlighted tile of a grid (0 is the first map tile; the image tile is not selectable).
    public var selection = 0
    public var query: Query?
    /// A fixed number of tile columns for grids (`render --grid`); nil: the count that shows
    /// the pictures largest in the window.
    public var tileColumns: Int?
    public var opacity: Float = 0.5
    public var resolution = 224
    public var filter = ""
    public var editingFilter = false
    public var showHelp = false
    public var columns: Int
    public var rows: Int
    public var colorMode: ColorMode
    public var symbols: SymbolSet
    public var message: String?
    /// Images marked with space for `x`.
    public var marked: Set<Int> = []
    /// Exports asked for and not yet taken by the driver (which does the writing).
    public var exportRequests: [ExportRequest] = []
    public var exportDirectory = "simpool-exports"
    public var tick = 0
    public var quit = false

    public static let resolutions = [224, 336, 448]
    public static let minimumColumns = 40
    public static let minimumRows = 12

    public init(paths: [String], model: ModelFacts, columns: Int, rows: Int, colorMode: ColorMode, symbols: SymbolSet,
                methods: [MethodCatalog.Specification] = MethodCatalog.defaults) {
        entries = paths.map { Entry(path: $0) }
        self.model = model
        self.methods = methods
        layer = max(0, model.layerCount - 1)
        methodIndex = Self.firstMethod(methods: methods, model: model)
        self.columns = columns
        self.rows = rows
        self.colorMode = colorMode
        self.symbols = symbols
    }

    /// The method the explorer opens on: the learned SimPool head when the checkpoint has
    /// one, else its learned attention-pool head, else [CLS] attention for transformers with
    /// [CLS], else SimPool without weights.
    /// (SimPool-np's query, the mean token, is mostly background on DINOv2; its map stays
    /// one key away.)
    public static func firstMethod(methods: [MethodCatalog.Specification], model: ModelFacts) -> Int {
        let preferred = model.context.simpoolWeights != nil ? "simpool"
            : model.context.attentionPoolWeights != nil ? "attnpool" : (model.hasClassToken ? "cls" : "simpool-np")
        return methods.firstIndex { $0.name == preferred } ?? 0
    }

    /// The patch grid of the current image (rows, columns), once its forward pass is done.
    public var patchGrid: (rows: Int, columns: Int)? {
        guard let layer = current?.result?.trace.final else { return nil }
        return (layer.gridHeight, layer.gridWidth)
    }

    public var current: Entry? { visibleIndices.contains(index) ? entries[index] : nil }
    public var method: MethodCatalog.Specification { methods[methodIndex] }

    /// Indices of the images that pass the name filter, in order.
    public var visibleIndices: [Int] {
        let needle = filter.lowercased()
        return entries.indices.filter { needle.isEmpty || entries[$0].name.lowercased().contains(needle) }
    }

    public var failedNames: [String] { entries.compactMap { $0.failure == nil ? nil : $0.name } }

    /// Images whose forward pass the driver should run now: the current one first, then
    /// its neighbours, so that moving on feels instant.
    public var wantedForwards: [Int] {
        let visible = forwardCandidates
        guard let position = visible.firstIndex(of: index) else { return visible.first.map { [$0] } ?? [] }
        var wanted = [visible[position]]
        if position + 1 < visible.count { wanted.append(visible[position + 1]) }
        if position > 0 { wanted.append(visible[position - 1]) }
        return wanted.filter { i in
            guard let result = entries[i].result else { return true }
            return result.resolution != resolution
        }
    }

    public var isTooSmall: Bool { columns < Self.minimumColumns || rows < Self.minimumRows }

    /// Images a forward pass may be run for: visible, and not failed.
    private var forwardCandidates: [Int] { visibleIndices.filter { entries[$0].failure == nil } }

    /// How many images on each side of the current one keep their forward pass: the
    /// neighbours computed ahead, nothing more. Each kept result holds a trace (every
    /// layer's tokens, a few MB at 224 pixels) and the display image, so keeping every
    /// visited image would grow without bound (measured before traces were compacted:
    /// 655 MB after the 14 samples); beyond this window a result is dropped and recomputed
    /// if the user comes back.
    public static let keptNeighbours = 1

    /// Drops the results of images outside the window around the current one (the same
    /// neighbourhood `wantedForwards` computes ahead).
    mutating func releaseDistantResults() {
        let visible = forwardCandidates
        let position = visible.firstIndex(of: index) ?? 0
        let kept = Set(visible[max(0, position - Self.keptNeighbours)..<min(visible.count, position + Self.keptNeighbours + 1)])
        for i in entries.indices where entries[i].result != nil && !kept.contains(i) {
            entries[i].status = .pending
        }
    }
}

/// Files the user asked for from the explorer: `e` (this map), `E` (every method for this
/// image and layer), `x` (this map for every marked image).
public struct ExportRequest: Sendable, Equatable {
    public let indices: [Int]
    public let methods: [MethodCatalog.Specification]
    public let layer: Int
    public let head: HeadSelection

    public init(indices: [Int], methods: [MethodCatalog.Specification], layer: Int, head: HeadSelection) {
        self.indices = indices
        self.methods = methods
        self.layer = layer
        self.head = head
    }
}

/// The engine's output for one image at one resolution.
public struct ImageResult: Sendable {
    public let image: PixelImage
    public let trace: Trace
    public let resolution: Int
    public let inputWidth: Int
    public let inputHeight: Int
    public let forwardMilliseconds: Double
    /// Best class and its probability when the model classifies.
    public let topLabel: (name: String, probability: Float)?
    /// The decoder's warning about the file, shown with its picture (see `PixelImage.warning`).
    public var decodeWarning: String?

    public init(image: PixelImage, trace: Trace, resolution: Int, inputWidth: Int, inputHeight: Int,
                forwardMilliseconds: Double, topLabel: (name: String, probability: Float)?) {
        self.image = image
        self.trace = trace
        self.resolution = resolution
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.forwardMilliseconds = forwardMilliseconds
        self.topLabel = topLabel
    }
}

import Foundation
