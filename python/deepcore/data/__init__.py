"""deepcore.data: Dataset, DataLoader, random_split, datasets, transforms. (Being written: issue 4.)"""
