// The public face of lu_vfio: include this from stages/ and cli/.
#pragma once

#include "vfio/bdf.h"             // Bdf::parse: strict DDDD:BB:DD.F
#include "vfio/config_space.h"    // pci::read_ids, bus_master, set_bus_master, snapshot
#include "vfio/device.h"          // Device: the seam (kernel and simulated machine)
#include "vfio/driver.h"          // DmaDriver, Driver, driver_table
#include "vfio/iommu_mode.h"      // IommuMode and its table
#include "vfio/iova_allocator.h"  // IovaAllocator
#include "vfio/kernel_device.h"   // open_device, adopt_cdev_device
#include "vfio/sysfs.h"           // PciSysfs: cdev name, iommu group, vfio-pci guard
#include "vfio/verify.h"          // first_mismatch
