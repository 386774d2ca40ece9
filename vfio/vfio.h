// The public face of lu_vfio: what the stage engine (stages/) and the CLI (cli/) include, and
// nothing else from vfio/. It names the seam (Device), the DMA driver framework (DmaDriver and
// the driver table; drivers' registers stay private in vfio/drivers/<name>/), and the helpers
// checks need.
// Backends implement the seam with its own headers: machine/kernel_machine.cc uses
// vfio/kernel_device.h, the simulated machine (sim/) vfio/device.h.
#pragma once

#include "vfio/bdf.h"             // Bdf::parse: strict DDDD:BB:DD.F
#include "vfio/config_space.h"    // pci::read_ids, bus_master, set_bus_master, snapshot
#include "vfio/device.h"          // Device: the seam (kernel and simulated machine); DmaBuffer, IrqKind
#include "vfio/driver.h"          // DmaDriver (probe, init, memcpy_start/wait, set_pace, remove), driver_table
#include "vfio/iommu_mode.h"      // IommuMode and its table
#include "vfio/iova_allocator.h"  // IovaAllocator, IovaRange
#include "vfio/verify.h"          // first_mismatch
