import TerminalCanvas

/// The pictures the explorer draws as real pixels over a frame: each panel's box and its
/// pixels, from the same state the frame was composed from: the panels, or a grid's tiles.
/// None for the help, an image still waiting for its forward pass or a map that failed
/// (a grid's failed tile keeps its text); the cells of the frame then stand alone.
public enum PixelFrame {
    public struct Picture: Sendable, Equatable {
        public let box: Box
        public let image: RGBImage
    }

    public static func pictures(_ state: ExplorerState, still: PixelStill) -> [Picture] {
        guard !state.showHelp, let result = state.current?.result else { return [] }
        let image = result.image
        let query = state.query.map { ($0.row, $0.column) }
        if state.layout != .single { return tiles(state, result: result, still: still, query: query) }
        guard case .success(let map)? = MapComputation.compute(state) else { return [] }
        let boxes = ScreenLayout.pictures(state, imageWidth: image.width, imageHeight: image.height)
        guard let first = boxes.first, first.width > 0, first.height > 0 else { return [] }
        let values = map.displayValues(threshold: state.thresholdOn ? state.mass : nil)
        let images = still.panels(view: state.view, image: image, map: map, values: values, columns: first.width,
                                  rows: first.height, colormap: state.colormap, opacity: state.opacity, query: query)
        return zip(boxes, images).map { Picture(box: $0, image: $1) }
    }

    /// A grid's tiles: the photo, then each tile's map (or overlay) where it could be
    /// computed; a failed tile keeps its text.
    static func tiles(_ state: ExplorerState, result: ImageResult, still: PixelStill, query: (row: Int, column: Int)?) -> [Picture] {
        guard state.gridProblem == nil else { return [] }
        let image = result.image
        var pictures: [Picture] = []
        for tile in ScreenLayout.tiles(state, imageWidth: image.width, imageHeight: image.height) {
            let box = ScreenLayout.picture(in: tile.box, imageWidth: image.width, imageHeight: image.height, state: state)
            guard box.width > 0, box.height > 0 else { continue }
            switch tile.content {
            case .image:
                pictures.append(Picture(box: box, image: still.tile(image: image, map: nil, values: [], overlay: false,
                                                                   columns: box.width, rows: box.height, colormap: state.colormap,
                                                                   opacity: state.opacity, query: nil)))
            case .map(let index):
                let settings = state.tileSettings(index)
                guard case .success(let map) = MapComputation.compute(trace: result.trace, state: state, layer: settings.layer,
                                                                      head: settings.head, methodIndex: settings.methodIndex)
                else { continue }
                let values = map.displayValues(threshold: state.thresholdOn ? state.mass : nil)
                pictures.append(Picture(box: box, image: still.tile(image: image, map: map, values: values,
                                                                   overlay: state.view == .overlay, columns: box.width,
                                                                   rows: box.height, colormap: state.colormap,
                                                                   opacity: state.opacity, query: query)))
            }
        }
        return pictures
    }
}
