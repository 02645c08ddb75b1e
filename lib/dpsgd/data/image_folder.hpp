#pragma once
// Image-folder classification data sets:
//   <root>/<split>/<class>/<name>.png|.jpg|.jpeg
// with split one of train, val (optional), test. The classes are the sorted
// names of the folders in <root>/train, and a label is its class's index in that
// list, so the labels are a function of the folder names alone and every split
// shares them; a val or test class folder that train lacks is an error (its
// label would be undefined). Images are read as formats/image_file.hpp does
// (intensities in 0-255; PNG without OpenCV, JPEG needs a build with it), resized
// to one size when one is configured (bilinear with antialiasing) and
// normalised with the configured per-channel mean and std (0-255 units).
//
// Privacy note: each image is one record of the add/remove-one relation; the
// resize and normalisation are fixed functions of that image alone, so they
// cost no privacy. The class list comes from folder names, which are public.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dpsgd/data/segmentation_folder.hpp"
#include "dpsgd/data/tensor_dataset.hpp"

namespace dpsgd::data {

/// The class names: the sorted names of the folders in <root>/train (hidden
/// ones skipped). Throws util::UserError naming the folder when <root>/train is
/// missing or holds no class folder.
std::vector<std::string> image_folder_classes(const std::filesystem::path& root);

/// Loads `<root>/<split_dir>`: inputs float32 N x C x H x W, targets int64 N
/// (class indices). Files are taken class by class, each class in name order, so
/// a data set is a function of its folder alone. `options.image_size` {0, 0}
/// keeps the files' size (which must then agree); options.label_map is not
/// used. split_dir "val" without <root>/val gives an empty TensorDataset.
/// Throws util::UserError naming the path for a missing folder, an empty class
/// folder, a class folder not among train's, a file that is not a PNG/JPEG
/// image, sizes or channel counts that differ, a mean/std whose length fits
/// neither 1 nor the channel count, or (num_classes > 0) more classes than
/// num_classes.
TensorDataset load_image_folder(const std::filesystem::path& root, const std::string& split_dir,
                                const SegmentationFolderOptions& options,
                                const std::string& dataset_name, std::int64_t num_classes = 0);

}  // namespace dpsgd::data
